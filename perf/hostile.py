"""Hostile clients against a running Edge (perf/hostile.sh starts it): each scenario runs its clients while a probe
connects every half second and times the greeting, and the Edge process's resident memory is sampled. Prints one
line per scenario: what the clients got, peak and final RSS, and the slowest greeting.

    python3 perf/hostile.py PID PORT [scenario ...]
"""
import asyncio
import collections
import functools
import multiprocessing
import socket
import ssl
import sys
import time

PID, PORT = int(sys.argv[1]), int(sys.argv[2])
HOST = "127.0.0.1"


def rss_mib():
    with open(f"/proc/{PID}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def source(i):
    """A client address of its own in 127.0.0.0/8, so that per-client limits see a botnet, not one host."""
    return (f"127.1.{i // 250 % 256}.{1 + i % 250}", 0)


async def connect(i):
    return await asyncio.open_connection(HOST, PORT, local_addr=source(i), limit=1 << 20)


async def reply(reader, timeout=30):
    """One whole reply's last line, or a note of how the connection ended."""
    try:
        while True:
            line = await asyncio.wait_for(reader.readline(), timeout)
            if not line:
                return "closed"
            if len(line) < 4 or line[3:4] != b"-":
                return line.decode(errors="replace").strip()
    except asyncio.TimeoutError:
        return "no reply"
    except (ConnectionError, OSError):
        return "reset"


def code(text):
    return text[:3] if text[:3].isdigit() else text


async def slow(i, stop):
    """Connects, then sends "EHLO slow.example" one byte every 3 seconds, for as long as the scenario lasts."""
    try:
        reader, writer = await connect(i)
        await reply(reader)
        for b in b"EHLO slow.example\r\n" * 100:
            if stop.is_set():
                break
            writer.write(bytes([b]))
            await writer.drain()
            await asyncio.sleep(3)
        writer.close()
        return "held"
    except (ConnectionError, OSError):
        return "reset"


async def long_line(i, stop):
    """A command line of 4 MiB, written without a line end."""
    try:
        reader, writer = await connect(i)
        await reply(reader)
        writer.write(b"EHLO " + b"x" * (4 << 20))
        try:
            await asyncio.wait_for(writer.drain(), 30)
        except (ConnectionError, OSError, asyncio.TimeoutError):
            pass
        return code(await reply(reader))
    except (ConnectionError, OSError):
        return "reset"


async def envelope(reader, writer):
    for command in (b"EHLO hostile.example", b"MAIL FROM:<hostile@example.org>", b"RCPT TO:<postmaster@localhost>"):
        writer.write(command + b"\r\n")
        await writer.drain()
        await reply(reader)


async def data(i):
    """A connection whose transaction is at DATA's 354, to send content on."""
    reader, writer = await connect(i)
    await reply(reader)
    await envelope(reader, writer)
    writer.write(b"DATA\r\n")
    await writer.drain()
    await reply(reader)
    return reader, writer


async def long_header(i, stop):
    """DATA whose first header line is 8 MiB long."""
    try:
        reader, writer = await data(i)
        writer.write(b"Subject: " + b"y" * (8 << 20) + b"\r\n\r\nbody\r\n.\r\n")
        try:
            await asyncio.wait_for(writer.drain(), 60)
        except (ConnectionError, OSError, asyncio.TimeoutError):
            pass
        return code(await reply(reader, 60))
    except (ConnectionError, OSError):
        return "reset"


async def oversize(i, stop):
    """A 64 MiB body, past message_size_limit (10 MiB by default), streamed as fast as Edge takes it."""
    try:
        reader, writer = await data(i)
        line = b"z" * 998 + b"\r\n"
        block = line * 1024
        try:
            for _ in range(64):
                writer.write(block)
                await asyncio.wait_for(writer.drain(), 30)
            writer.write(b".\r\n")
            await writer.drain()
        except (ConnectionError, OSError, asyncio.TimeoutError):
            pass
        return code(await reply(reader, 60))
    except (ConnectionError, OSError):
        return "reset"


async def recipients(i, stop):
    """5,000 RCPT commands in one transaction, pipelined in batches of 100."""
    try:
        reader, writer = await connect(i)
        await reply(reader)
        writer.write(b"EHLO hostile.example\r\nMAIL FROM:<hostile@example.org>\r\n")
        await writer.drain()
        await reply(reader)
        await reply(reader)
        seen = collections.Counter()
        for batch in range(50):
            writer.write(b"".join(b"RCPT TO:<user%d@edge.test>\r\n" % (batch * 100 + n) for n in range(100)))
            await writer.drain()
            for _ in range(100):
                seen[code(await reply(reader))] += 1
        return " ".join(f"{k}x{v}" for k, v in sorted(seen.items()))
    except (ConnectionError, OSError):
        return "reset"


async def flood(i, stop):
    """NOOP after NOOP, 200,000 of them, written without reading a reply until the end."""
    try:
        reader, writer = await connect(i)
        await reply(reader)
        writer.write(b"EHLO hostile.example\r\n")
        chunk = b"NOOP\r\n" * 10000
        try:
            for _ in range(20):
                writer.write(chunk)
                await asyncio.wait_for(writer.drain(), 30)
        except (ConnectionError, OSError, asyncio.TimeoutError):
            return "stalled or closed"
        return "written"
    except (ConnectionError, OSError):
        return "reset"


async def tls_abandoned(i, stop):
    """STARTTLS, then half of a TLS ClientHello, then silence until the scenario ends."""
    try:
        reader, writer = await connect(i)
        await reply(reader)
        writer.write(b"EHLO hostile.example\r\n")
        await writer.drain()
        await reply(reader)
        writer.write(b"STARTTLS\r\n")
        await writer.drain()
        ready = await reply(reader)
        hello = client_hello()
        writer.write(hello[: len(hello) // 2])
        await writer.drain()
        await stop.wait()
        writer.close()
        return code(ready)
    except (ConnectionError, OSError):
        return "reset"


@functools.cache
def client_hello():
    """A real ClientHello, taken from Python's own TLS engine."""
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    engine = context.wrap_bio(incoming, outgoing)
    try:
        engine.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


SCENARIOS = {
    # name: (client function, clients, seconds the scenario lasts at least)
    "slow": (slow, 10000, 60),
    "long-line": (long_line, 200, 10),
    "long-header": (long_header, 100, 10),
    "oversize": (oversize, 50, 10),
    "recipients": (recipients, 100, 10),
    "flood": (flood, 100, 10),
    "tls-abandoned": (tls_abandoned, 2000, 30),
}


def probe(stop, latencies):
    """A well-behaved client every half second, in a process of its own so that the load's clients cannot delay it:
    connect, and time the greeting."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            with socket.create_connection((HOST, PORT), timeout=30) as client:
                greeting = client.makefile("rb").readline()
                latencies.append(time.monotonic() - started if greeting.startswith(b"220") else float("inf"))
                client.sendall(b"QUIT\r\n")
        except OSError:
            latencies.append(float("inf"))
        time.sleep(0.5)


async def run(name):
    function, count, seconds = SCENARIOS[name]
    stop = asyncio.Event()
    manager = multiprocessing.Manager()
    probing, latencies = manager.Event(), manager.list()
    before = rss_mib()
    peak = before
    prober = multiprocessing.Process(target=probe, args=(probing, latencies))
    prober.start()
    started = time.monotonic()
    clients = []
    for i in range(count):
        clients.append(asyncio.create_task(function(i, stop)))
        if i % 200 == 199:
            # Connections arrive in bursts of 200, not all in one instant the listen queue cannot hold.
            await asyncio.sleep(0.05)
            peak = max(peak, rss_mib())
    while time.monotonic() - started < seconds or (not all(c.done() for c in clients) and time.monotonic() - started < 300):
        await asyncio.sleep(1)
        peak = max(peak, rss_mib())
        if time.monotonic() - started >= seconds and name in ("slow", "tls-abandoned"):
            break
    stop.set()
    results = collections.Counter()
    for outcome in await asyncio.gather(*clients, return_exceptions=True):
        results[outcome if isinstance(outcome, str) else type(outcome).__name__] += 1
    probing.set()
    prober.join()
    latencies = list(latencies)
    manager.shutdown()
    await asyncio.sleep(3)
    after = rss_mib()
    worst = max(latencies) if latencies else float("nan")
    print(f"| {name} | {count} | {', '.join(f'{k}: {v}' for k, v in results.most_common(4))} | {before:.0f} | {peak:.0f} | "
          f"{after:.0f} | {worst * 1000:.0f} | {len(latencies)} |", flush=True)


async def main():
    names = sys.argv[3:] or list(SCENARIOS)
    print("| scenario | clients | what the clients got | RSS before MiB | peak MiB | after MiB | slowest greeting ms | probes |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        await run(name)


asyncio.run(main())
