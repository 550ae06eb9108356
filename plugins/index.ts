/** The built-in plugins. They are registered exactly as a third-party module's plugins are. */
import type { PluginDef } from '../src/api.js';

export const builtinPlugins: PluginDef[] = [
];
