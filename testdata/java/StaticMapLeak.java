import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.util.HashMap;

/**
 * A leak for `heapgraph suspects`: a static HashMap that keeps every Session it is given, so that it
 * holds nearly the whole heap. Dumps its own heap (live objects only, as jcmd GC.heap_dump does) and
 * exits.
 *
 *     java -cp CLASSES StaticMapLeak OUT.hprof N
 */
public class StaticMapLeak {
    static final HashMap<Integer, Session> SESSIONS = new HashMap<>();

    static final class Session {
        final int id;
        final byte[] buffer = new byte[64];
        Session(int id) { this.id = id; }
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[1]);
        for (int i = 0; i < n; i++) {
            SESSIONS.put(i, new Session(i));
        }
        HotSpotDiagnosticMXBean bean = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        bean.dumpHeap(args[0], true);
        System.out.println("{\"sessions\": " + SESSIONS.size() + "}");
    }
}
