// A one-NameNode, one-DataNode HDFS for sluice's tests, on fixed ports on 127.0.0.1, WebHDFS on.
// Compiled with javac into the jar cache by services.mjs; run with the hdfs/lib classpath.
//
//   java --add-opens=java.base/java.lang=ALL-UNNAMED ... -cp 'hdfs/lib/*:classes' SluiceMiniHdfs \
//        <baseDir> [format|keep] [nnRpcPort] [nnHttpPort] [dnHttpPort]
//
// "keep" restarts on an existing base dir without formatting (data survives a stop/start).
// Prints "SLUICE-HDFS-READY" on stdout when the cluster is active; stops on SIGTERM.
import java.io.File;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.DFSConfigKeys;
import org.apache.hadoop.hdfs.MiniDFSCluster;

public final class SluiceMiniHdfs {
  public static void main(String[] args) throws Exception {
    if (args.length < 1) {
      System.err.println("usage: SluiceMiniHdfs <baseDir> [format|keep] [nnRpc] [nnHttp] [dnHttp]");
      System.exit(2);
    }
    File base = new File(args[0]).getAbsoluteFile();
    boolean format = args.length < 2 || !"keep".equals(args[1]);
    int nnRpc = args.length > 2 ? Integer.parseInt(args[2]) : 8020;
    int nnHttp = args.length > 3 ? Integer.parseInt(args[3]) : 9870;
    int dnHttp = args.length > 4 ? Integer.parseInt(args[4]) : 9864;
    String host = "127.0.0.1";

    Configuration conf = new Configuration();
    conf.setBoolean("dfs.webhdfs.enabled", true);
    conf.setBoolean(DFSConfigKeys.DFS_PERMISSIONS_ENABLED_KEY, false);
    conf.setInt(DFSConfigKeys.DFS_REPLICATION_KEY, 1);
    conf.set(DFSConfigKeys.DFS_NAMENODE_RPC_BIND_HOST_KEY, host);
    conf.set(DFSConfigKeys.DFS_NAMENODE_HTTP_BIND_HOST_KEY, host);
    conf.set(DFSConfigKeys.DFS_NAMENODE_HTTP_ADDRESS_KEY, host + ":" + nnHttp);
    // DataNode: fixed addresses on loopback (ephemeral IPC / data ports are fine, HTTP is fixed
    // because WebHDFS redirects clients there).
    conf.set(DFSConfigKeys.DFS_DATANODE_HOST_NAME_KEY, host);
    conf.set(DFSConfigKeys.DFS_DATANODE_ADDRESS_KEY, host + ":0");
    conf.set(DFSConfigKeys.DFS_DATANODE_IPC_ADDRESS_KEY, host + ":0");
    conf.set(DFSConfigKeys.DFS_DATANODE_HTTP_ADDRESS_KEY, host + ":" + dnHttp);
    conf.set(DFSConfigKeys.DFS_DATANODE_HTTPS_ADDRESS_KEY, host + ":0");
    // a small cluster for tests: quick heartbeats, no safe-mode wait
    conf.setInt(DFSConfigKeys.DFS_NAMENODE_SAFEMODE_EXTENSION_KEY, 0);
    conf.setLong(DFSConfigKeys.DFS_HEARTBEAT_INTERVAL_KEY, 1);
    // "localhost" would be resolved; keep everything literal 127.0.0.1
    conf.set("hadoop.http.staticuser.user", System.getProperty("user.name"));

    MiniDFSCluster cluster = new MiniDFSCluster.Builder(conf, base)
        .nameNodePort(nnRpc)
        .nameNodeHttpPort(nnHttp)
        .numDataNodes(1)
        .checkDataNodeAddrConfig(true)
        .checkDataNodeHostConfig(true)
        .format(format)
        .manageNameDfsDirs(true)
        .manageDataDfsDirs(true)
        .waitSafeMode(true)
        .build();
    cluster.waitActive();
    // on a restart over kept data, blocks are readable only after the DataNode's first report
    cluster.waitFirstBRCompleted(0, 60_000);

    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("SLUICE-HDFS-STOPPING");
      try {
        cluster.shutdown();
      } catch (Throwable t) {
        // e.g. "Shutdown in progress, cannot remove a shutdownHook" from the DataNode: harmless
        System.out.println("SLUICE-HDFS-SHUTDOWN-NOTE " + t);
      }
    }));
    System.out.println("SLUICE-HDFS-READY hdfs://" + host + ":" + cluster.getNameNodePort()
        + " webhdfs http://" + host + ":" + nnHttp + " datanode http://" + host + ":" + dnHttp);
    System.out.flush();
    Thread.currentThread().join();
  }
}
