import java.lang.ref.WeakReference;
import java.util.HashMap;

/**
 * A small heap with known contents for heapgraph's HPROF tests (see make_dump.sh).
 *
 * MAP: a static HashMap of N entries Key -> Item, each Item holding one Payload. Key, Item and Payload
 * exist nowhere else, so the map retains exactly: itself, its table, N HashMap$Node, and every Key, Item
 * and Payload. WEAK: a WeakReference to a Target that STRONG also holds (the weak edge must not retain).
 * A daemon thread "holder" keeps a LocalHeld in a local variable of a running frame. GREETING is a String
 * whose value the reader must decode.
 */
public class HeapFixture {
    static final int N = 1000;
    static final HashMap<Key, Item> MAP = new HashMap<>();
    static final Target STRONG = new Target();
    static final WeakReference<Target> WEAK = new WeakReference<>(STRONG);
    static final String GREETING = new String("hello, heapgraph \u00e9");
    static final String WIDE = new String("wide \u4e16\u754c");
    static final int[] NUMBERS = {1, 2, 3, 4, 5};
    static final Object[] MIXED = {MAP, STRONG, null, GREETING};

    static final class Key {
        final int id;
        Key(int id) { this.id = id; }
        @Override public int hashCode() { return id; }
        @Override public boolean equals(Object o) { return o instanceof Key && ((Key) o).id == id; }
    }

    static final class Payload {
        long a, b;
    }

    static final class Item {
        final long id;
        final Payload payload = new Payload();
        Item prev;
        Item(long id, Item prev) { this.id = id; this.prev = prev; }
    }

    static final class Target {
        int value = 42;
    }

    static final class LocalHeld {
        final byte[] bytes = new byte[100];
    }

    public static void main(String[] args) throws Exception {
        Item prev = null;
        for (int i = 0; i < N; i++) {
            Item item = new Item(i, prev);
            MAP.put(new Key(i), item);
            prev = item;
        }
        prev = null;
        Thread holder = new Thread(() -> {
            LocalHeld local = new LocalHeld();
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                System.out.println(local.bytes.length);
            }
        }, "holder");
        holder.setDaemon(true);
        holder.start();
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        System.in.read();
    }
}
