#!/usr/bin/env python3
"""The Python client a user would otherwise reach for, measured like ours: the `openai` package's
AsyncOpenAI with asyncio, N chat requests at most C in flight, against the same loopback server
(crates/backend-openai/examples/client_cost.rs `serve`). Prints one JSON line in the Rust
example's format. Driven by scripts/bench-openai-client.sh.

Usage: openai_client_cost.py URL REQUESTS CONCURRENCY stream|plain
"""

import asyncio
import json
import resource
import sys
import time

import openai


def cpu_seconds():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def one(client, sem, i, stream):
    async with sem:
        kw = dict(
            model="instant",
            messages=[{"role": "user", "content": f"what is the binary sentiment of sentence {i}?"}],
            max_tokens=4,
            temperature=0,
        )
        try:
            if stream:
                text, tokens = [], 0
                s = await client.chat.completions.create(
                    stream=True, stream_options={"include_usage": True}, **kw
                )
                async for chunk in s:
                    if chunk.choices and chunk.choices[0].delta.content:
                        text.append(chunk.choices[0].delta.content)
                    if chunk.usage:
                        tokens = chunk.usage.completion_tokens
                return "".join(text), tokens, None
            r = await client.chat.completions.create(**kw)
            return r.choices[0].message.content, r.usage.completion_tokens, None
        except Exception as e:  # a failed request is counted, as ours counts its errors
            return "", 0, repr(e)


async def main(url, n, c, stream):
    client = openai.AsyncOpenAI(base_url=url, api_key="unused", max_retries=0, timeout=30)
    sem = asyncio.Semaphore(c)
    cpu0, t0 = cpu_seconds(), time.perf_counter()
    answers = await asyncio.gather(*(one(client, sem, i, stream) for i in range(n)))
    wall, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    await client.close()
    failed = sum(1 for a in answers if a[2])
    print(json.dumps({
        "client": f"python openai {openai.__version__}",
        "requests": n, "concurrency": c, "stream": stream,
        "wall_s": round(wall, 4), "cpu_s": round(cpu, 4),
        "requests_per_s": round(n / wall, 1), "requests_per_cpu_s": round(n / max(cpu, 1e-9), 1),
        "failed": failed, "completion_tokens": sum(a[1] for a in answers),
        "first_error": next((a[2] for a in answers if a[2]), None),
    }))


if __name__ == "__main__":
    if len(sys.argv) != 5 or sys.argv[4] not in ("stream", "plain"):
        sys.exit(__doc__)
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "stream"))
