import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Three heap dumps of one JVM, for `heapgraph suspects OLD NEW NEWER`.
 *
 *     java -cp CLASSES GrowthLeak leak|churn OUT_PREFIX [STEP]
 *
 * Both modes keep a session cache bounded to 500 entries (a LinkedHashMap that evicts its eldest) and
 * churn it before every dump: 500 new sessions under new keys evict as many, and short-lived garbage
 * comes and goes. In `leak` mode the static HashMap ORDERS also gets STEP (default 1000) more Orders
 * before every dump. Dumps live objects only (as jcmd GC.heap_dump does) to OUT_PREFIX.1.hprof ..
 * OUT_PREFIX.3.hprof, and prints one JSON line: the files and ORDERS's size at each.
 */
public class GrowthLeak {
    static final HashMap<Integer, Order> ORDERS = new HashMap<>();
    static final int LIMIT = 500;
    static final Map<String, Session> SESSIONS = new LinkedHashMap<String, Session>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Session> eldest) {
            return size() > LIMIT;
        }
    };

    static final class Order {
        final int id;
        final long[] lines = new long[8];
        Order(int id) { this.id = id; }
    }

    static final class Session {
        final String user;
        final int[] seen;
        Session(String user, int n) { this.user = user; this.seen = new int[] {n, n + 1}; }
    }

    static Object churn(int round) {
        for (int i = 0; i < LIMIT; i++) {
            int n = round * LIMIT + i;
            SESSIONS.put("user-" + n, new Session("user-" + n, n));
        }
        Session[] garbage = new Session[2000];
        for (int i = 0; i < garbage.length; i++) garbage[i] = new Session("tmp", i);
        return garbage.length;
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        if (!mode.equals("leak") && !mode.equals("churn")) throw new IllegalArgumentException(mode);
        int step = args.length > 2 ? Integer.parseInt(args[2]) : 1000;
        HotSpotDiagnosticMXBean bean = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        StringBuilder files = new StringBuilder();
        StringBuilder sizes = new StringBuilder();
        for (int round = 0; round < 3; round++) {
            churn(round);
            if (mode.equals("leak")) {
                for (int i = 0, start = ORDERS.size(); i < step; i++) ORDERS.put(start + i, new Order(start + i));
            }
            String file = args[1] + "." + (round + 1) + ".hprof";
            bean.dumpHeap(file, true);
            files.append(round == 0 ? "" : ",").append('"').append(file).append('"');
            sizes.append(round == 0 ? "" : ",").append(ORDERS.size());
        }
        System.out.println("{\"files\": [" + files + "], \"orders\": [" + sizes + "]}");
    }
}
