"""The load engine's plain-Python parts: HDR merging, the knee, the gate, plans and the mix."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

import msgpack
import pytest

from sloguard.config import load_config
from sloguard.errors import UsageError
from sloguard.load import gate, knee, plan, soak, target_metrics
from sloguard.load.control import Aggregator
from sloguard.load.generator import GeneratorUsage
from sloguard.load.recorder import Recorder, ScopeInfo
from sloguard.load.tallies import StepTally
from sloguard.slo import LatencyHistogram

LIMITS = SimpleNamespace(max_cpu_percent=90.0, max_loop_lag_ms=50.0, max_schedule_lag_ms=100.0,
                         max_dropped_ratio=0.001, target_cpu_percent=70.0)


class _Meter:
    def take(self) -> GeneratorUsage:
        return GeneratorUsage(wall_s=1.0, cpu_s=0.2)


def _wire(payload: dict[str, object]) -> dict[str, object]:
    """Through msgpack as Locust's RPC encodes a worker report (importing Locust here would patch
    pytest's process for gevent)."""
    data = msgpack.loads(msgpack.dumps(("stats", {"sloguard": payload}, "w")), raw=False, strict_map_key=False)
    return dict(data[1]["sloguard"])


def test_hdr_merge_across_two_workers_equals_one_histogram_of_all_samples() -> None:
    rng = random.Random(7)
    samples = [rng.lognormvariate(2.5, 1.2) for _ in range(40_000)] + [0.0004, 12_345.678, 3_700_000.0]
    scopes = {"slack · GET /x": ScopeInfo("op", "slack · GET /x", "slack", frozenset({200}))}
    workers = [Recorder(scopes, _Meter()), Recorder(scopes, _Meter())]  # type: ignore[arg-type]
    for w in workers:
        w.set_phase(1, 0, "hold")
    for i, ms in enumerate(samples):
        workers[i % 2].on_request("slack · GET /x", 200, ms)
    master = Aggregator()
    for n, w in enumerate(workers):
        master.add(f"w{n}", _wire(w.report()))  # windows only
        w.close()
        master.add(f"w{n}", _wire(w.report()))  # the closed phase's per-operation tallies
    merged = master.phases[(0, "hold")].scopes["op"][2]
    one = LatencyHistogram()
    for ms in samples:
        one.record(ms)
    assert merged.requests == len(samples) and merged.latency.count == one.count
    for p in (1, 25, 50, 90, 95, 99, 99.9, 100):
        assert merged.percentile(p) == one.percentile(p)
    assert merged.latency.encode() == one.encode()
    windows, _ = master.drain()
    assert windows.latency.encode() == one.encode()  # the live windows add up to the same


def test_hdr_percentiles_are_exact_to_one_percent_of_the_raw_samples() -> None:
    rng = random.Random(3)
    raw = sorted(rng.expovariate(1 / 40) + 1 for _ in range(20_000))
    rec = Recorder({}, _Meter())  # type: ignore[arg-type]
    rec.set_phase(1, 0, "hold")
    for ms in raw:
        rec.on_request("x", 200, ms)
    rec.close()
    tally = StepTally.from_dict(rec.report()["phases"][0]["scopes"]["x"]["tally"])
    for p in (50, 95, 99):
        exact = raw[max(0, -(-len(raw) * p // 100) - 1)]
        assert abs((tally.percentile(p) or 0) - exact) / exact < 0.01


def _point(users: int, rps: float, p95: float, err: float, status: str = "passed") -> knee.StepPoint:
    return knee.StepPoint(users, rps, p95, err, status)


RECORDED = [  # a real shape: linear until ~2,500 users, then throughput flattens and p95 climbs
    _point(1000, 98.0, 120.0, 0.000),
    _point(2500, 244.0, 180.0, 0.001),
    _point(5000, 262.0, 460.0, 0.004),
    _point(10000, 259.0, 2300.0, 0.030, "failed"),
]


def test_knee_finder_on_recorded_step_data() -> None:
    k = knee.find_knee(RECORDED)
    assert k.max_inside_slo is not None and k.max_inside_slo.users == 5000
    assert k.saturation is not None and k.saturation.users == 2500
    assert k.saturated_at is not None and k.saturated_at.users == 5000
    assert k.first_failure is not None and k.first_failure.users == 10000
    targets = [SimpleNamespace(users=u, action=a) for u, a in
               ((1000, "current"), (2500, "add app instances"), (5000, "read replicas"), (10000, "multi-region"))]
    status = knee.headroom(k, RECORDED, targets)
    assert [s.status for s in status] == ["holds", "holds", "holds", "breaks"]
    assert status[0].headroom == pytest.approx(4.0) and status[3].headroom == pytest.approx(-0.5)
    recs = knee.recommendations(k, status, RECORDED, target_cpu=[(2500, 81.0)],
                                triggers=SimpleNamespace(cpu_percent=70.0, memory_percent=75.0))
    assert any(r.startswith("Before 10,000 users: multi-region") for r in recs)
    assert any("Throughput stops growing after 2,500 users" in r for r in recs)
    assert any("Target CPU averaged 81% at 2,500 users" in r and "add application instances" in r for r in recs)


def test_knee_ignores_invalid_steps_and_a_lucky_pass_above_a_failure() -> None:
    steps = [_point(100, 10, 50, 0), _point(200, 20, 900, 0, "failed"), _point(400, 40, 60, 0),
             _point(800, 5, 5000, 0.5, "inconclusive")]
    k = knee.find_knee(steps)
    assert k.max_inside_slo is not None and k.max_inside_slo.users == 100
    assert k.saturation is None  # 200 → 400 doubled throughput: still scaling
    linear = [_point(100, 10, 50, 0), _point(200, 20, 52, 0), _point(400, 41, 55, 0)]
    assert knee.find_knee(linear).saturation is None


def _measure(requests: int, latency_ms: float, *, errors: int = 0, cpu: float = 0.2, wait: float = 0.0,
             dropped: int = 0) -> gate.PhaseMeasure:
    tally = StepTally(requests=requests, errors=errors, unavailable=errors)
    for _ in range(requests - errors):
        tally.latency.record(latency_ms)
    usage = GeneratorUsage(wall_s=10, cpu_s=cpu * 10, wait_s=wait * 10, iterations=requests, dropped=dropped)
    return gate.PhaseMeasure({"op": ("slack · GET /x", "slack", tally)}, {"w": usage}, 0.0, 10.0, 10)


def _plan(*users: int, in_range: int = 1000) -> plan.LoadPlan:
    steps = tuple(plan.StepPlan(i, n, 10.0, None, n <= in_range) for i, n in enumerate(users))
    return plan.LoadPlan("capacity", "closed", steps, 10.0, (1.0, 2.0), "none", "http://127.0.0.1:1",
                         target_range_users=in_range)


def _slo(_: str | None) -> SimpleNamespace:
    return SimpleNamespace(latency_p95_ms=500.0, error_rate=0.01, availability=0.999)


def test_gate_verdicts() -> None:
    p = _plan(100, 200, 400, 2000, in_range=400)
    measures = {0: _measure(500, 100), 1: _measure(500, 100, cpu=0.97), 2: _measure(500, 700),
                3: _measure(500, 900)}
    steps = gate.judge(p, measures, slo_for=_slo, min_samples=100, limits=LIMITS)
    assert [s.status for s in steps] == ["passed", "inconclusive", "failed", "failed"]
    assert "--workers 2" in (steps[1].reason or "")
    [miss] = [f for f in steps[2].findings if f.message.startswith("at 400 users")]
    assert miss.rule.name == "SLO_MISSED" and miss.severity is None and "p95 700.0 ms ≥ 500 ms" in miss.message
    beyond = [f for f in steps[3].findings if f.message.startswith("at 2,000 users")]
    assert beyond[0].severity is not None and beyond[0].severity.value == "P3"  # the breaking point
    assert gate.exit_code(steps) == 1
    assert gate.exit_code([steps[0], steps[3]]) == 0  # beyond the range breaking is expected
    assert gate.exit_code([steps[1]]) == 1  # nothing decided is not a pass


def test_gate_needs_minimum_samples_and_names_starvation() -> None:
    p = _plan(10)
    [few] = gate.judge(p, {0: _measure(50, 100)}, slo_for=_slo, min_samples=100, limits=LIMITS)
    assert few.status == "inconclusive" and "only 50 requests" in (few.reason or "")
    starving = _measure(500, 100, cpu=0.2, wait=0.75)
    [starved] = gate.judge(p, {0: starving}, slo_for=_slo, min_samples=100, limits=LIMITS)
    assert starved.status == "inconclusive" and "quieter machine" in (starved.reason or "")
    errors = _measure(500, 100, errors=25)
    [failed] = gate.judge(p, {0: errors}, slo_for=_slo, min_samples=100, limits=LIMITS)
    assert failed.status == "failed" and any("error rate 5.00%" in f.message for f in failed.findings)


def test_plan_scale_overrides_and_safety(tmp_path: Path) -> None:
    config = load_config(None, env={})
    capacity = plan.resolve(config, "capacity", scale=0.1)
    assert [s.users for s in capacity.steps] == [100, 250, 500, 1000]
    assert [t.users for t in capacity.targets] == [100, 250, 500, 1000] and capacity.target_range_users == 1000
    assert plan.resolve(config, "stress", scale=0.1).steps[-1].in_target_range is False
    assert [s.users for s in plan.resolve(config, "capacity", users=7, duration_s=3).steps] == [7]
    assert plan.resolve(config, "rate").mode == "open"
    with pytest.raises(UsageError, match="unknown load profile 'nope'"):
        plan.resolve(config, "nope")
    far = tmp_path / "far.yaml"
    far.write_text("target: {base_url: 'https://atom.example.com', environment: staging}\n")
    with pytest.raises(UsageError, match=r"add 'atom\.example\.com' to load\.allow_hosts"):
        plan.check_allowed(load_config(far, env={}))
    prod = tmp_path / "prod.yaml"
    prod.write_text("target: {base_url: 'https://atom.example.com', environment: production}\n"
                    "load: {allow_hosts: [atom.example.com]}\n")
    with pytest.raises(UsageError, match="environment is production"):
        plan.check_allowed(load_config(prod, env={}))
    prod.write_text(prod.read_text().replace("{allow_hosts", "{allow_production: true, allow_hosts"))
    plan.check_allowed(load_config(prod, env={}))
    assert not plan.writes_allowed(load_config(prod, env={}))


def test_soak_fit_and_metrics_parsing() -> None:
    leak = soak.fit([(t, 100 + 2.0 * t) for t in range(10)])
    assert leak is not None and leak.growth == pytest.approx(0.18) and leak.r2 == pytest.approx(1.0)
    assert soak.growth_finding(leak, what="memory", threshold_percent=10, min_r2=0.6)
    flat = soak.fit([(t, 100 + (1 if t % 2 else -1)) for t in range(10)])
    assert soak.growth_finding(flat, what="memory", threshold_percent=10, min_r2=0.6) is None
    text = ('# HELP process_cpu_seconds_total x\n# TYPE process_cpu_seconds_total counter\n'
            'process_cpu_seconds_total 12.5\nprocess_resident_memory_bytes{pid="1"} 1.5e+08\n'
            'atom_http_requests_total{route="/process_cpu_seconds_total"} 3\n')
    assert target_metrics.parse(text) == (12.5, 1.5e8)
    samples = [target_metrics.Sample(float(t), 10.0 + 0.5 * t, 1e8) for t in range(5)]
    cpu, _, mem, n = target_metrics.window(samples, 0, 4, cores=1.0, memory_limit_bytes=4e8)
    assert cpu == pytest.approx(50.0) and mem == pytest.approx(25.0) and n == 5


def test_the_mix_is_read_heavy_weighted_and_says_why_operations_are_out(platform: object) -> None:
    from collections import Counter

    from sloguard.load.mix import build_mix, load_target_catalog

    base_url = platform.base_url  # type: ignore[attr-defined]
    config = load_config(None, env={}, overrides={"target": {"base_url": base_url},
                                                  "load": {"mix": {"integrations": {"stripe": 3, "slack": 0}}}})
    catalog = load_target_catalog(config)
    mix = build_mix(config, catalog, writes=True)
    by_integration = Counter[str]()
    for op in mix.operations:
        by_integration[op.integration] += op.weight  # type: ignore[assignment]
    assert by_integration["stripe"] == pytest.approx(3.0) and by_integration["github"] == pytest.approx(1.0)
    assert "slack" not in by_integration
    reads = sum(op.weight for op in mix.operations if op.kind in ("list", "get", "search"))
    assert reads / sum(op.weight for op in mix.operations) > 0.8
    reasons = set(mix.excluded.values())
    assert any("needs scope admin" in r for r in reasons)  # the fault-injection admin API is never loaded
    assert any("integration slack has weight 0" in r for r in reasons)
    assert not any(op.path.startswith("/api/admin") for op in mix.operations)
    read_only = build_mix(config, catalog, writes=False)
    assert read_only.operations and not any(op.writes for op in read_only.operations)
    assert any(r.startswith("writes data") for r in read_only.excluded.values())
    gets = [op for op in mix.operations if op.kind == "get" and op.id_params]
    assert gets and all(op.provider for op in gets)  # every id comes from a list
    rng = random.Random(1)
    assert Counter(mix.pick(rng).integration for _ in range(20_000))["stripe"] > 20_000 * 2.5 / 35


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _window(seq: int, step: int, phase: str, requests: int, errors: int, ms: float) -> dict[str, object]:
    tally = StepTally(requests=requests, errors=errors, unavailable=errors)
    for _ in range(requests - errors):
        tally.latency.record(ms)
    return {"acked": seq, "windows": [{"seq": seq, "step": step, "phase": phase, "t0": 0, "t1": 1,
                                       "tally": tally.to_dict(), "usage": GeneratorUsage(1, 0.1).to_dict(),
                                       "users": 10, "logins": 0}], "phases": []}


def test_controller_walks_the_steps_and_stress_stops_at_the_break() -> None:
    from sloguard.load.control import Controller

    steps = tuple(plan.StepPlan(i, n, 10.0, None, True) for i, n in enumerate((10, 20, 40)))
    stress = plan.LoadPlan("stress", "closed", steps, 100.0, (0.5, 1.0), "none", "http://127.0.0.1:1",
                           stop_at_break=True)
    clock, users, sent = _Clock(), {"n": 0}, []
    c = Controller(stress, abort_rate=0.05, abort_after_s=300, slo_p95_ms=500, slo_error_rate=0.01, min_samples=10,
                   user_count=lambda: users["n"], worker_count=lambda: 1, notify=sent.append, clock=clock)
    assert c.tick() == (10, 100.0) and (c.step, c.phase) == (0, "ramp") and "plan" in sent[0]
    users["n"], clock.now = 10, 1.0
    c.tick()  # users reached: settle starts
    clock.now = 2.5
    c.tick()
    assert c.phase == "hold"
    c.aggregator.add("local", _window(c.seq, 0, "hold", 50, 0, 100.0))
    c.sample()
    clock.now = 13.0
    assert c.tick() == (20, 100.0) and (c.step, c.phase) == (1, "ramp")  # step 1 held: on to 20 users
    users["n"], clock.now = 20, 14.0
    c.tick()
    clock.now = 15.5
    c.tick()
    c.aggregator.add("local", _window(c.seq, 1, "hold", 50, 0, 900.0))  # p95 900 ms: the break
    c.sample()
    clock.now = 26.0
    c.tick()
    assert c.finished and c.stopped_after == 1 and sent[-1]["phase"] == "done"
    c.aggregator.acked["local"] = c.seq
    assert c.tick() is None  # every generator reported: the shape ends the test
    steps_out = gate.judge(stress, c.measures(), slo_for=_slo, min_samples=10, limits=LIMITS,
                           stopped_after=c.stopped_after)
    assert [s.status for s in steps_out] == ["inconclusive", "inconclusive", "skipped"]  # held, but no tallies sent
    assert "profile stops at the break" in (steps_out[2].reason or "")


def test_controller_aborts_on_a_sustained_error_rate_only() -> None:
    from sloguard.load.control import Controller

    one = _plan(10)
    clock = _Clock()
    c = Controller(one, abort_rate=0.05, abort_after_s=5, slo_p95_ms=500, slo_error_rate=0.01, min_samples=10,
                   user_count=lambda: 10, worker_count=lambda: 1, notify=lambda _m: None, clock=clock)
    c.tick()
    for second in range(1, 8):
        clock.now = float(second)
        c.aggregator.add("local", _window(c.seq, 0, "ramp", 100, 0 if second < 4 else 8, 10.0))
        c.sample()
        if second < 7:
            assert c.abort is None, second  # 0% at first, then 8%: the last 5 s average above 5% at 7 s
    assert c.abort is not None and c.abort.error_rate > 0.05
