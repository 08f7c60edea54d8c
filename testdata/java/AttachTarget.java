import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.ArrayList;
import java.util.List;

/**
 * A JVM for heapgraph's `dump --pid` tests, driven over stdin with one JSON answer per line:
 *   java AttachTarget HELD DROPPED
 * It holds HELD objects of class Held, each with a Leaf, in a static list, and allocates DROPPED objects of
 * class Dropped that nothing keeps (garbage until the next GC: run it with a young generation large enough
 * that none happens on its own). Commands: ping -> {"pong": true}; grow K -> K more Held, {"held": N};
 * gap -> the longest gap between two ticks of a thread that ticks every 5 ms, since the last `gap`
 * ({"longest_gap_seconds": S}: the longest pause, safepoints included, as a Java thread lived it). The end
 * of stdin ends it. Its first line is {"ready": PID, "held": N, "dropped": M}.
 */
public class AttachTarget {
    static final List<Held> HELD = new ArrayList<>();
    static volatile Object sink;
    static volatile long longestGap;

    static final class Leaf {
        long value;
        Leaf(long value) { this.value = value; }
    }

    static final class Held {
        final Leaf leaf;
        Held(long id) { this.leaf = new Leaf(id); }
    }

    static final class Dropped {
        long a, b;
    }

    static void grow(int n) {
        for (int i = 0; i < n; i++) {
            HELD.add(new Held(HELD.size()));
        }
    }

    public static void main(String[] args) throws Exception {
        grow(Integer.parseInt(args[0]));
        int dropped = Integer.parseInt(args[1]);
        for (int i = 0; i < dropped; i++) {
            sink = new Dropped(); // stored where the JIT cannot see it unused, so it is allocated
        }
        sink = null;
        Thread ticker = new Thread(() -> {
            long last = System.nanoTime();
            while (true) {
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
                long now = System.nanoTime();
                longestGap = Math.max(longestGap, now - last);
                last = now;
            }
        }, "ticker");
        ticker.setDaemon(true);
        ticker.start();
        System.out.println("{\"ready\": " + ProcessHandle.current().pid() + ", \"held\": " + HELD.size()
                + ", \"dropped\": " + dropped + "}");
        System.out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        for (String line; (line = in.readLine()) != null; ) {
            String[] words = line.trim().split("\\s+");
            if (words[0].equals("ping")) {
                System.out.println("{\"pong\": true}");
            } else if (words[0].equals("grow")) {
                grow(Integer.parseInt(words[1]));
                System.out.println("{\"held\": " + HELD.size() + "}");
            } else if (words[0].equals("gap")) {
                System.out.println("{\"longest_gap_seconds\": " + longestGap / 1e9 + "}");
                longestGap = 0;
            } else {
                System.out.println("{\"error\": \"unknown command\"}");
            }
            System.out.flush();
        }
    }
}
