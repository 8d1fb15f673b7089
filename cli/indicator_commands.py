"""``indicators``, ``alerts`` and ``watch``: alignment indicators and drift alerts."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import polars as pl

from cli.bootstrap import build_alert_sinks, open_store
from cli.errors import EXIT_FAILURE
from cli.output import emit, report_progress, to_json
from engine.alerts import AlertRules
from engine.alignment import IndicatorConfig, WindowConfig, read_toml_tables
from engine.errors import ConfigError
from engine.indicators import compute_indicators, count_partitions
from engine.watching import WatchState, raise_new_alerts, run_watch_step
from engine.windows import LifecycleStages, parse_periods

if TYPE_CHECKING:
    from engine.ports import AlertSink, EventStore
    from engine.windows import WindowSpec

ALERT_COLUMNS = [
    "event_id",
    "partnership_id",
    "signal",
    "window",
    "value",
    "baseline",
    "message",
]

CONFIG_OPTION = click.option(
    "--config",
    "config_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file: [windows], [weights], [thresholds], [alerts.*], [sinks].",
)
JSONL_OPTION = click.option(
    "--jsonl", help="Also deliver alerts to this JSON Lines file (outbox)."
)
WEBHOOK_OPTION = click.option(
    "--webhook", help="Also POST alerts to this URL (outbox, retried with backoff)."
)


class Settings:
    """Everything read from ``--config`` (defaults when absent)."""

    def __init__(self, path: Path | None) -> None:
        text = path.read_text(encoding="utf-8") if path else ""
        source = str(path) if path else "<defaults>"
        self.indicators = IndicatorConfig.from_toml(text, source=source)
        self.rules = AlertRules.from_toml(text, source=source)
        self.sinks: dict[str, Any] = read_toml_tables(text, source=source).get(
            "sinks", {}
        )

    def build_sinks(
        self, jsonl: str | None, webhook: str | None
    ) -> list[tuple[str, AlertSink]]:
        try:
            return build_alert_sinks(
                jsonl=jsonl or self.sinks.get("jsonl"),
                webhook=webhook or self.sinks.get("webhook"),
                retries=int(self.sinks.get("webhook_retries", 3)),
                backoff=float(self.sinks.get("webhook_backoff_s", 0.5)),
            )
        except (TypeError, ValueError) as e:
            msg = f"[sinks]: {e}"
            raise ConfigError(msg) from e


def _window_spec(
    settings: Settings,
    *,
    window: str | None,
    step: str | None,
    periods: str | None,
    by_stage: bool,
) -> WindowSpec:
    chosen = sum([bool(window or step), periods is not None, by_stage])
    if chosen > 1:
        msg = "choose one of --window/--step, --periods, --by-stage"
        raise click.UsageError(msg)
    if periods is not None:
        return parse_periods(periods)
    if by_stage:
        return LifecycleStages()
    defaults = settings.indicators.windows
    return WindowConfig(
        window=window or defaults.window, step=step or defaults.step
    ).to_spec()


def _read_all(store_url: str) -> pl.DataFrame:
    store = open_store(store_url)
    try:
        return store.to_frame()
    finally:
        store.close()


def _render_indicator_table(frame: pl.DataFrame) -> str:
    """Return the readable table: no window bounds, values to two decimals."""
    view = frame.drop("window_start", "window_end").with_columns(
        pl.col(pl.Float64).round(2)
    )
    with pl.Config(
        tbl_rows=-1,
        tbl_cols=-1,
        tbl_width_chars=1000,
        fmt_str_lengths=40,
        tbl_hide_dataframe_shape=True,
        tbl_hide_column_data_types=True,
        tbl_formatting="ASCII_MARKDOWN",
    ):
        return str(view)


def _write_indicators(
    frame: pl.DataFrame, output_format: str, out: Path | None
) -> None:
    if output_format == "parquet":
        if out is None:
            msg = "--format parquet needs --out FILE"
            raise click.UsageError(msg)
        frame.write_parquet(out)
        return
    if output_format == "csv":
        text = frame.write_csv()
    elif output_format == "json":
        text = to_json(frame) + "\n"
    else:
        text = _render_indicator_table(frame) + "\n"
    if out is None:
        click.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")


@click.command()
@click.option("--window", help="Rolling window length, e.g. 90d (default from config).")
@click.option("--step", help="Rolling window step, e.g. 30d (default from config).")
@click.option(
    "--periods",
    help=(
        "Named periods NAME:START..END[,NAME:START..END...]; dates are UTC days "
        "(an end date is inclusive), or give ISO datetimes with an offset."
    ),
)
@click.option("--by-stage", is_flag=True, help="One window per lifecycle stage.")
@click.option("--by", help="Group by a column or attribute, e.g. workstream.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "csv", "parquet"]),
    default="table",
    show_default=True,
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
@CONFIG_OPTION
@click.pass_context
def indicators(
    ctx: click.Context,
    window: str | None,
    step: str | None,
    periods: str | None,
    by_stage: bool,  # noqa: FBT001
    by: str | None,
    output_format: str,
    out: Path | None,
    config_path: Path | None,
) -> None:
    """Alignment indicators per partnership and window (score, mode, status)."""
    settings = Settings(config_path)
    spec = _window_spec(
        settings, window=window, step=step, periods=periods, by_stage=by_stage
    )
    with report_progress("reading the log"):
        events = _read_all(ctx.obj.store)
    parts = count_partitions(events.height)  # bounds memory on large logs
    with report_progress(
        f"computing the indicators of {events.height:,} events"
        + (f" in {parts} partitions" if parts > 1 else "")
    ):
        frame = compute_indicators(
            events, windows=spec, by=by, config=settings.indicators, partitions=parts
        )
    _write_indicators(frame.drop("window_index", "complete"), output_format, out)


def _deliver(store: EventStore, sinks: list[tuple[str, AlertSink]]) -> bool:
    from adapters.sinks import deliver_pending

    ok = True
    for name, sink in sinks:
        report = deliver_pending(store, sink, name=name)
        if report.error is not None:
            ok = False
            click.echo(
                f"warning: {report.pending} alert(s) not delivered to {name}, "
                f"kept for the next run: {report.error}",
                err=True,
            )
    return ok


@click.command()
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@CONFIG_OPTION
@JSONL_OPTION
@WEBHOOK_OPTION
@click.pass_context
def alerts(
    ctx: click.Context,
    output_format: str,
    config_path: Path | None,
    jsonl: str | None,
    webhook: str | None,
) -> None:
    """Evaluate every partnership once; append, print and deliver the new alerts."""
    settings = Settings(config_path)
    sinks = settings.build_sinks(jsonl, webhook)
    store = open_store(ctx.obj.store)
    try:
        with report_progress("evaluating every partnership"):
            fresh = raise_new_alerts(
                store, config=settings.indicators, rules=settings.rules
            )
        emit(fresh.select(ALERT_COLUMNS), output_format)
        delivered = _deliver(store, sinks)
    finally:
        store.close()
    if not delivered:
        ctx.exit(EXIT_FAILURE)


@click.command()
@click.option("--interval", type=float, default=5.0, show_default=True)
@click.option("--max-iterations", type=int, default=None, help="Stop after N polls.")
@click.option("--limit", type=int, default=None, help="Events read per step.")
@CONFIG_OPTION
@JSONL_OPTION
@WEBHOOK_OPTION
@click.pass_context
def watch(
    ctx: click.Context,
    interval: float,
    max_iterations: int | None,
    limit: int | None,
    config_path: Path | None,
    jsonl: str | None,
    webhook: str | None,
) -> None:
    """Follow the store: raise alerts for new events, resuming after the last one."""
    from adapters.sinks import StdoutSink

    settings = Settings(config_path)
    sinks = settings.build_sinks(jsonl, webhook)
    printer = StdoutSink()
    store = open_store(ctx.obj.store)
    state = WatchState()  # what earlier steps computed; rebuilt from the store
    iterations = 0
    try:
        while max_iterations is None or iterations < max_iterations:
            iterations += 1
            step = run_watch_step(
                store,
                config=settings.indicators,
                rules=settings.rules,
                limit=limit,
                state=state,
            )
            printer.deliver(step.alerts.select(ALERT_COLUMNS).to_dicts())
            _deliver(store, sinks)
            sys.stdout.flush()
            if step.events_read == 0 and (
                max_iterations is None or iterations < max_iterations
            ):
                time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        store.close()
