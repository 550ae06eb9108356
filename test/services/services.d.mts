// Types for services.mjs (so TypeScript tests and benchmarks can import it).
export declare const HOST: '127.0.0.1';
export declare const KAFKA_PORT: number;
export declare const KAFKA_CONTROLLER_PORT: number;
export declare const KAFKA_BROKERS: string[];
export declare const HDFS_RPC_PORT: number;
export declare const HDFS_HTTP_PORT: number;
export declare const HDFS_DATANODE_HTTP_PORT: number;
export declare const HDFS_URL: string;
export declare const WEBHDFS: { host: string; port: number; path: string };
export declare function cacheDir(): string;
export declare function runDir(): string;
export declare function logFile(service: 'kafka' | 'hdfs'): string;
export declare function javaAvailable(): boolean;
export declare function mavenAvailable(): boolean;
export declare function jarsReady(): boolean;
export declare function fetchJars(opts?: { quiet?: boolean }): Promise<boolean>;
export declare function withLock<T>(name: string, fn: () => Promise<T>, timeoutMs?: number): Promise<T>;
export declare function servicePid(service: 'kafka' | 'hdfs'): number | null;
export declare function kafkaUp(): Promise<boolean>;
export declare function hdfsUp(): Promise<boolean>;
/** Resolves to true when this call started the service (false: it already answered). */
export declare function startKafka(opts?: { timeoutMs?: number }): Promise<boolean>;
export declare function startHdfs(opts?: { timeoutMs?: number }): Promise<boolean>;
/** Resolves to true when it stopped a service these scripts started; data dirs are kept. */
export declare function stopKafka(): Promise<boolean>;
export declare function stopHdfs(): Promise<boolean>;
export declare function ensureKafka(): Promise<boolean>;
export declare function ensureHdfs(): Promise<boolean>;
export declare const ensure: { kafka: () => Promise<boolean>; hdfs: () => Promise<boolean> };
export declare const stop: { kafka: () => Promise<boolean>; hdfs: () => Promise<boolean> };
export declare const up: { kafka: () => Promise<boolean>; hdfs: () => Promise<boolean> };
export declare function portOwner(port: number): { pid: number; cwd: string } | null;
