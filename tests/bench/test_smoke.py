"""Smoke run of ``ocpo-coord bench``: every section is there, with positive figures.

Timings are never asserted: the machine running the tests is not the one measured.
"""

import json

from typer.testing import CliRunner

from ocpo_coord.bench.report import ratios, table
from ocpo_coord.bench.run import Options, run
from ocpo_coord.cli import app

READ_KEYS = [f"{reader}/{page}" for reader in ("broad", "middle", "narrow") for page in ("first", "deep")]


def test_bench_tiny_scale_on_sqlite() -> None:
    result = run(
        Options(
            scale=0.0002,
            repeat=1,
            deep_pages=2,
            clients=2,
            seconds=0.2,
            writes=1,
            bulk_selectors=60,
            handover_cases=5,
            workers=2,
            curve_clients=(1, 3),
        )
    )
    assert result["dialect"] == "sqlite"
    assert result["generate"]["counts"]["records"] > 0
    for section in ("floor", "rule_floor", "framework", "rest", "graphql"):
        for key in READ_KEYS:
            figures = result[section][key]
            assert figures["p50_ms"] > 0
            assert figures["p95_ms"] >= figures["p50_ms"]
            assert figures["rows"] >= 1
    for key in READ_KEYS:
        # Caller, page and audit entry at least (SQLite also sends its BEGIN).
        assert result["rule_floor"][key]["statements"] >= 3
        assert result["rule_floor"][key]["rows"] == result["rest"][key]["rows"]
        # The framework floor answers the REST page; the caller floor is its caller alone.
        assert result["framework"][key]["rows"] == result["rest"][key]["rows"]
        assert 1 <= result["caller_floor"][key]["statements"] < result["rule_floor"][key]["statements"]
        assert result["caller_floor"][key]["p50_ms"] > 0
    for transport in ("rest", "graphql"):
        assert result["throughput"][transport]["requests"] > 0
        assert result["throughput"][transport]["failed"] == 0
    assert [point["clients"] for point in result["curve"]] == [1, 3]
    for point in result["curve"]:
        assert point["answered"] > 0
        assert point["p99_ms"] >= point["p50_ms"] > 0
        assert point["failed"] == 0
    assert result["writes"]["per_second"] > 0
    stix = result["stix_intake"]
    # A report and its three entities a group, after a system identity and a marking.
    assert stix["objects"] == 198
    assert stix["records_created"] == stix["audit_entries"] == 196
    assert stix["items_created"] == 49
    assert stix["hits_raised"] > 0
    assert stix["again_created"] == 0
    assert stix["per_second"] > 0
    bulk = result["bulk_selectors"]
    assert bulk["selectors"] == bulk["added"] == 60
    assert bulk["per_second"] > 0
    floor = result["write_floor"]
    # The floor writes the create's own rows: two records, the selectors, audit entries.
    assert floor["rows"]["record"] == 2
    assert floor["rows"]["selector"] == 2
    assert floor["rows"]["audit_event"] >= 2
    for name in ("floor", "rest", "graphql"):
        assert floor[name]["p95_ms"] >= floor[name]["p50_ms"] > 0
    handover = result["handover"]
    # The cases, their open tasks and linked intelligence all leave, and all arrive.
    assert handover["records"] == handover["imported"] == handover["moving"] + handover["entities"]
    assert handover["moving"] > handover["cases"] > 0
    assert handover["export_bytes_per_second"] > 0
    # The cases' evidence files leave with them (TLP:RED items are declined, and so
    # stay with their files), and they are most of the package's bytes.
    generated = result["generate"]
    assert 0 < handover["evidence_files"] <= generated["evidence_files"]
    assert 0 < handover["evidence_file_bytes"] <= generated["evidence_file_bytes"]
    assert handover["evidence_file_bytes"] > handover["bytes"] / 2
    assert handover["sha256sum_bytes_per_second"] > 0
    assert result["audit_verify"]["entries"] > 0
    assert result["audit_sequence"]["entries"] == result["audit_verify"]["entries"]
    assert set(result["concurrent_writes"]) == {"1", "4", "16"}
    assert result["integration_delay"]["samples"] == 20
    under = result["list_under_writes"]
    assert under["writers"] == 8
    assert min(under["samples_alone"], under["samples_with_writers"]) >= 20
    assert under["writes_per_second"] > 0
    assert under["writes_failed"] == 0
    assert under["lock_waiting_backends"] is None  # watched on PostgreSQL only
    assert under["ratio"] == under["p50_with_writers_ms"] / under["p50_alone_ms"] > 0
    assert result["audit_verify"]["per_second"] > 0
    assert result["service"]["peak_rss_mb"] > 0
    assert result["service"]["workers"] == 2
    assert handover["export_peak_rss_mb"] > 0
    result["ratios"] = ratios(result, baseline=result)
    assert all(value > 0 for value in result["ratios"].values())
    assert "full_vs_small_scale" in result["ratios"]
    for name in (
        "rest_vs_floor",
        "graphql_vs_floor",
        "rest_vs_rule_floor",
        "graphql_vs_rule_floor",
        "least_rest_vs_rule_floor",
    ):
        assert name in result["ratios"]
    assert "rule-keeping floor" in table(result)
    assert "framework floor" in table(result)
    assert "audit verify" in table(result)
    assert "while 8 clients write" in table(result)
    assert result["ratios"]["list_p50_with_writers_vs_alone"] == under["ratio"]
    paced = result["list_under_paced_writes"]
    assert paced["pace_per_writer"] > 0
    assert paced["writes_per_second"] > 0
    assert paced["writes_failed"] == 0
    assert "while 8 clients write steadily" in table(result)
    for measured in [*result["concurrent_writes"].values(), under, paced]:
        assert measured["cores_busy"] is not None
        assert 0 < measured["cores_busy"] <= measured["cores"]
    assert result["ratios"]["writes_16_vs_1_client"] == (
        result["concurrent_writes"]["16"]["per_second"] / result["concurrent_writes"]["1"]["per_second"]
    )
    assert result["ratios"]["writes_cpu_bound_vs_1_client"] > 0
    assert "write floor" in table(result)
    assert "bulk selectors" in table(result)
    assert "STIX intake" in table(result)
    assert "2 service process(es)" in table(result)
    json.dumps(result, default=str)


def test_bench_command_is_registered() -> None:
    answer = CliRunner().invoke(app, ["bench", "--help"])
    assert answer.exit_code == 0
    assert "--scale" in answer.output
    assert "--json" in answer.output
    assert "--postgres" in answer.output
