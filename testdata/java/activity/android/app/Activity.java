package android.app;

/**
 * The part of Android's `android.app.Activity` that heapgraph reads: the `mDestroyed` flag the framework
 * sets once `onDestroy` has run, after which the app must drop every reference to the activity. Lets a
 * JVM make a dump with the same class, field and subclassing that an Android dump has.
 */
public class Activity {
    private boolean mFinished;
    boolean mDestroyed;

    protected void onDestroy() {}

    /** What the framework calls when it destroys the activity. */
    public final void performDestroy() {
        mFinished = true;
        mDestroyed = true;
        onDestroy();
    }
}
