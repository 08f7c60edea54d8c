import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;

/**
 * A large heap for benchmarks: a static HashMap of orders keyed by String, each order holding a customer
 * name, a list of line items and a byte[] payload, plus a linked chain through the orders. About 12
 * objects per order, so `java BigHeap 1700000` makes ~20M objects and a dump of ~1.7 GB.
 *
 * Usage: java -Xmx6g -XX:+UseParallelGC BigHeap ORDERS   (prints READY PID, waits for a line on stdin)
 */
public class BigHeap {
    static final HashMap<String, Order> ORDERS = new HashMap<>();

    static final class Line {
        final long sku;
        final int quantity;
        final String note;

        Line(long sku, int quantity, String note) {
            this.sku = sku;
            this.quantity = quantity;
            this.note = note;
        }
    }

    static final class Order {
        final String customer;
        final List<Line> lines = new ArrayList<>(4);
        final byte[] payload;
        final Order previous;

        Order(String customer, byte[] payload, Order previous) {
            this.customer = customer;
            this.payload = payload;
            this.previous = previous;
        }
    }

    public static void main(String[] args) throws Exception {
        int orders = Integer.parseInt(args[0]);
        String[] notes = {"gift", "fragile", "express", null};
        Order previous = null;
        for (int i = 0; i < orders; i++) {
            Order order = new Order("customer-" + (i % 100_000), new byte[330 + (i % 256)], i % 8 == 0 ? null : previous);
            for (int j = 0; j < 3; j++) {
                order.lines.add(new Line(i * 7L + j, j + 1, notes[(i + j) % 4]));
            }
            ORDERS.put("order-" + i, order);
            previous = order;
        }
        System.out.println("READY " + ProcessHandle.current().pid());
        System.out.flush();
        System.in.read();
    }
}
