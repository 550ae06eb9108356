export declare const ROOT: string;
export declare const STAMP: string;
export declare function buildInputs(root?: string): string[];
export declare function sourceHash(root?: string): string;
export declare function writeStamp(root?: string): { hash: string; files: number; built: string };
export declare function staleReason(root?: string): string | undefined;
