import com.sun.management.HotSpotDiagnosticMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/**
 * The Android leak LeakCanary is known for, on a JVM: a static listener list keeps activities after the
 * framework destroyed them. Destroys N of the activities it made, dumps its own heap (live objects only)
 * and prints how many it destroyed.
 *
 *     java -cp CLASSES LeakyActivities OUT.hprof N
 */
public class LeakyActivities {
    static final List<MainActivity> LISTENERS = new ArrayList<>();

    static final class MainActivity extends android.app.Activity {
        final long createdAt = System.nanoTime();
        final byte[] bitmap = new byte[4096];
        boolean resumed = true;
    }

    public static void main(String[] args) throws Exception {
        int destroyed = Integer.parseInt(args[1]);
        for (int i = 0; i < destroyed + 1; i++) {
            LISTENERS.add(new MainActivity());
        }
        for (int i = 0; i < destroyed; i++) {
            LISTENERS.get(i).performDestroy();
        }
        HotSpotDiagnosticMXBean bean = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        bean.dumpHeap(args[0], true);
        System.out.println("{\"LeakyActivities$MainActivity\": " + destroyed + "}");
    }
}
