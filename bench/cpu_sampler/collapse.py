"""Fold ``sitecustomize.py``'s samples into flame-graph counts, and print where the time went.

    python bench/cpu_sampler/collapse.py /tmp/prof/1234.samples --skip 30 --seconds 20 [--by file|func|leaf]

``--skip`` drops the first seconds of samples (start-up, joins); the timeline of samples per second is
printed first so the steady part can be picked.
"""

import argparse
import collections


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--skip", type=float, default=0.0)
    parser.add_argument("--seconds", type=float, default=1e9)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--collapsed", help="also write folded stacks here")
    args = parser.parse_args()
    rows = [line.rstrip("\n").split(" ", 1) for line in open(args.path)]
    stamps = [float(t) for t, _ in rows]
    t0 = stamps[0]
    per_second = collections.Counter(int(t - t0) for t in stamps)
    print("samples/s:", " ".join(str(per_second[s]) for s in range(int(stamps[-1] - t0) + 1)))
    picked = [stack for t, stack in rows if args.skip <= float(t) - t0 < args.skip + args.seconds]
    total = len(picked)
    print(f"{total} samples in the range")
    inclusive: collections.Counter[str] = collections.Counter()
    leaf: collections.Counter[str] = collections.Counter()
    for stack in picked:
        frames = stack.split(";")
        leaf[frames[-1]] += 1
        for frame in set(frames):
            inclusive[frame] += 1
    print("-- inclusive")
    for frame, n in inclusive.most_common(args.top):
        print(f"{100 * n / total:5.1f} % {frame}")
    print("-- self")
    for frame, n in leaf.most_common(args.top):
        print(f"{100 * n / total:5.1f} % {frame}")
    if args.collapsed:
        with open(args.collapsed, "w") as handle:
            for stack, n in collections.Counter(picked).most_common():
                handle.write(f"{stack} {n}\n")


if __name__ == "__main__":
    main()
