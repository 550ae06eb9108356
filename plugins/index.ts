/** The built-in plugins. They are registered exactly as a third-party module's plugins are. */
import type { PluginDef } from '../src/api.js';
import fileSource from './source/file/index.js';
import fileSink from './sink/file/index.js';
import hdfsSource from './source/hdfs/index.js';
import hdfsSink from './sink/hdfs/index.js';
import kafkaSource from './source/kafka/index.js';
import kafkaSink from './sink/kafka/index.js';
import stdoutSink from './sink/stdout/index.js';
import filter from './transform/filter/index.js';
import route from './transform/route/index.js';
import windowAnalyser from './analyse/window/index.js';
import rules from './analyse/rules/index.js';
import set from './transform/set/index.js';
import drop from './transform/drop/index.js';
import iocSweep from './analyse/ioc-sweep/index.js';
import proxyLog from './transform/proxy-log/index.js';

export const builtinPlugins: PluginDef[] = [
  fileSource,
  fileSink,
  hdfsSource,
  hdfsSink,
  kafkaSource,
  kafkaSink,
  stdoutSink,
  filter,
  route,
  windowAnalyser,
  rules,
  set,
  drop,
  iocSweep,
  proxyLog,
];
