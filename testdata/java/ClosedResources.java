import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.File;
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.RandomAccessFile;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Proven leaks for `heapgraph suspects`: a static list that keeps streams, files, sockets and channels
 * after they were closed, next to some still open. Dumps its own heap (live objects only) and prints
 * how many of each class it closed, for the test to compare.
 *
 *     java -cp CLASSES ClosedResources OUT.hprof SCRATCH_DIR
 */
public class ClosedResources {
    static final List<Object> HELD = new ArrayList<>();
    static final Map<String, Integer> CLOSED = new TreeMap<>();

    static void held(Object o, boolean closed) {
        HELD.add(o);
        if (closed) {
            CLOSED.merge(o.getClass().getName(), 1, Integer::sum);
        }
    }

    public static void main(String[] args) throws Exception {
        File dir = new File(args[1]);
        File file = new File(dir, "data.bin");
        try (FileOutputStream out = new FileOutputStream(file)) {
            out.write(new byte[128]);
        }
        for (int i = 0; i < 3; i++) {
            FileInputStream in = new FileInputStream(file);
            in.read();
            in.close();
            held(in, true);
        }
        for (int i = 0; i < 2; i++) {
            FileOutputStream out = new FileOutputStream(new File(dir, "out" + i));
            out.close();
            held(out, true);
        }
        RandomAccessFile raf = new RandomAccessFile(file, "r");
        raf.close();
        held(raf, true);
        for (int i = 0; i < 2; i++) {
            FileChannel channel = FileChannel.open(file.toPath(), StandardOpenOption.READ);
            channel.close();
            held(channel, true);
        }
        ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        Socket client = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        Socket accepted = server.accept();
        client.close();
        accepted.close();
        server.close();
        held(client, true);
        held(accepted, true);
        held(server, true);

        // Still open: not proven leaks.
        held(new FileInputStream(file), false);
        held(new FileOutputStream(new File(dir, "open")), false);
        held(FileChannel.open(file.toPath(), StandardOpenOption.READ), false);

        HotSpotDiagnosticMXBean bean = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        bean.dumpHeap(args[0], true);
        StringBuilder json = new StringBuilder("{");
        for (Map.Entry<String, Integer> e : CLOSED.entrySet()) {
            json.append(json.length() > 1 ? ", " : "").append('"').append(e.getKey()).append("\": ").append(e.getValue());
        }
        System.out.println(json.append('}'));
    }
}
