"""Measures the pause `heapgraph dump --pid` causes in a running JVM or Node.js process holding N objects
of the test's class Held (each with a Leaf, so 2N objects).

    python3 bench/bench_dump_pid_runtimes.py target/release/heapgraph java 2000000 /tmp/pid.hprof
    python3 bench/bench_dump_pid_runtimes.py target/release/heapgraph node 1000000 /tmp/pid.heapsnapshot
    python3 bench/bench_dump_pid_runtimes.py peer java 5000000 /tmp/pid.hprof

With `peer` instead of heapgraph, the runtime's own way takes the same dump: `jcmd PID GC.heap_dump OUT`,
or `v8.writeHeapSnapshot(OUT)` run in the Node process; its wall time stands as the pause reported.

The targets are the tests' own (testdata/java/AttachTarget.java, compiled into a temporary directory, and
testdata/v8/attach_target.js); each has a timer ticking every 5 ms and records the longest gap between two
ticks: the pause as the target lived it. Dumps it by pid (any arguments after the output are passed to
`heapgraph dump`), asks for the longest gap, and prints one JSON line with heapgraph's own report beside it.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.join(HERE, os.pardir, "testdata")


def target_command(runtime, held, classes):
    if runtime == "java":
        subprocess.run(["javac", "-d", classes, os.path.join(TESTDATA, "java", "AttachTarget.java")], check=True)
        return ["java", "-XX:+UseSerialGC", "-Xmx4g", "-cp", classes, "AttachTarget", str(held), "0"]
    if runtime == "node":
        return ["node", "--max-old-space-size=4096", os.path.join(TESTDATA, "v8", "attach_target.js"), str(held)]
    raise SystemExit("runtime: java or node")


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return None


def peer_dump(runtime, pid, out, ask):
    if os.path.exists(out):
        os.remove(out)
    started = time.perf_counter()
    if runtime == "java":
        subprocess.run(["jcmd", str(pid), "GC.heap_dump", out], check=True, stdout=subprocess.DEVNULL)
        name = "jcmd GC.heap_dump"
    else:
        ask("snapshot " + out)
        name = "v8.writeHeapSnapshot"
    return {
        "runtime": name,
        "summary": {"bytes": os.path.getsize(out)},
        "paused_seconds": time.perf_counter() - started,
    }


def main(heapgraph, runtime, held, out, options):
    with tempfile.TemporaryDirectory() as classes:
        target = subprocess.Popen(
            target_command(runtime, held, classes), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )

        def ask(command):
            target.stdin.write(command + "\n")
            target.stdin.flush()
            return json.loads(target.stdout.readline())

        pid = json.loads(target.stdout.readline())["ready"]
        ask("gap")
        rss = rss_bytes(pid)
        if heapgraph == "peer":
            report = peer_dump(runtime, pid, out, ask)
        else:
            report = json.loads(subprocess.run(
                [heapgraph, "dump", "--pid", str(pid), "-o", out, "--json"] + options,
                check=True, stdout=subprocess.PIPE, text=True, timeout=1200,
            ).stdout)
        gap = ask("gap")["longest_gap_seconds"]
        target.stdin.close()
        target.wait(timeout=60)
    print(json.dumps({
        "runtime": report["runtime"],
        "held": held,
        "target_rss_bytes": rss,
        "dump_bytes": report["summary"]["bytes"],
        "reported_pause_seconds": report["paused_seconds"],
        "longest_gap_in_target_seconds": gap,
    }))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:])
