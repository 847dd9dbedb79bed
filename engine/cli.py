"""``pathway``: the command line (contract in the design notes: decide, lint, timers, users, serve)."""

from __future__ import annotations

import signal
import sys
import threading

import click

from .store import create_token

ROLES = ("coordinator", "clinical_lead", "api_client", "admin")


@click.group(help="Guideline care pathways from Camunda Modeler BPMN + DMN, run on SpiffWorkflow.")
def main() -> None:
    pass


@main.command(help="Evaluate one DMN decision and print {\"result\", \"matchedRules\"} as JSON.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--decision", "decision", required=True, help="Decision id or name.")
@click.option("--input", "input_json", default="{}", show_default=True, help="Inputs as a JSON object.")
def decide(files: tuple[str, ...], decision: str, input_json: str) -> None:
    from .decisions import run_decide_command

    code, output = run_decide_command(list(files), decision, input_json)
    click.echo(output, err=code != 0)
    sys.exit(code)


@main.command(help="Lint BPMN/DMN files or folders: one 'file:element-id: message' per finding (warnings say "
                   "'warning:'); exit 0 clean, 1 with errors (or with warnings under --strict).")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--strict", is_flag=True, help="Warnings fail too.")
def lint(paths: tuple[str, ...], strict: bool) -> None:
    from .models.bundle import lint_paths

    problems = lint_paths(paths)
    for problem in problems:
        click.echo(str(problem))
    failing = [p for p in problems if p.is_error or strict]
    sys.exit(1 if failing else 0)


@main.command(help="Verify a pathway: the static checks, then every reachable state explored on a simulated "
                   "clock (no silent patient, endpoints, escalations, the *.safety.yaml properties). Each "
                   "violation prints its shortest path as a scenario. Exit 0 clean, 1 violations, 2 not verified "
                   "exhaustively (a bound was hit).")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--horizon", default="P10Y", show_default=True, help="How far from enrolment to explore (ISO 8601).")
@click.option("--max-states", default=200_000, show_default=True, type=int, help="Per track group.")
@click.option("--workers", default=None, type=int, help="Processes (default: one per core).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--track", "tracks", multiple=True, help="Explore only the track group holding this element id.")
@click.option("--search", type=click.Choice(["shortest", "coverage"]), default="shortest", show_default=True,
              help="shortest: breadth first, each path printed is a shortest one; coverage: states where an "
                   "element is active for the first time first, so a bounded run reaches more of the model.")
def verify(paths: tuple[str, ...], as_json: bool, horizon: str, max_states: int, workers: int | None,
           quiet: bool, tracks: tuple[str, ...], search: str) -> None:
    import json

    from .isotime import parse_duration
    from .models.bundle import collect_files, is_safety_file
    from .verify.explorer import Options
    from .verify.progress import Bar
    from .verify.report import as_json as report_json
    from .verify.report import text
    from .verify.verifier import verify as run_verify

    files = collect_files(paths)
    if all(is_safety_file(name) for name in files):
        raise click.UsageError("no .bpmn or .dmn files found")
    options = Options(horizon=parse_duration(horizon), max_states=max_states, search=search)
    where = paths[0] if len(paths) == 1 else None
    with Bar(enabled=not quiet) as bar:
        report = run_verify(files, options, workers=workers, progress=bar.update, tracks=tracks)
    click.echo(json.dumps(report_json(report, where), indent=2, default=str) if as_json else text(report, where))
    sys.exit(1 if report.violations else 0 if report.exhaustive else 2)


@main.command(help="What changed in meaning between two versions: each of OLD and NEW is a folder or file of "
                   ".bpmn/.dmn, or KEY:VERSION of a deployed definition (DATABASE_URL). Layout and formatting "
                   "never count. Exit 0 when nothing changed, 1 when something did.")
@click.argument("old")
@click.argument("new")
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON.")
def diff(old: str, new: str, as_json: bool) -> None:
    import json

    from .models.diff import diff_bundles

    before, after = _bundle_sources(old), _bundle_sources(new)
    changes = diff_bundles(before, after)
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in changes], indent=2, ensure_ascii=False))
    else:
        for change in changes:
            click.echo(f"{change.file}: {change.text}")
        if not changes:
            click.echo("no change in meaning")
    sys.exit(1 if changes else 0)


def _bundle_sources(where: str) -> dict[str, str]:
    """Files of a folder or file (named as a deploy names them), or a deployed KEY:VERSION."""
    from pathlib import Path

    from .models.bundle import collect_files

    if Path(where).exists():
        return {name: text.decode("utf-8") for name, text in collect_files([where]).items()}
    key, _, version = where.rpartition(":")
    if not key or not version.isdigit():
        raise click.BadParameter(f"'{where}' is neither a file or folder nor KEY:VERSION")
    from .service import NotFound
    from .wiring import open_service

    runtime = open_service(migrate=False)
    try:
        return runtime.service.definition_source(key, int(version), "")
    except NotFound as exc:
        raise click.BadParameter(f"definition '{key}' version {version} not found") from exc
    finally:
        runtime.engine.dispose()


@main.command(help="Fire due timers: once with --once, else every --interval seconds until stopped.")
@click.option("--once", is_flag=True, help="Fire what is due now and exit.")
@click.option("--interval", default=30.0, show_default=True, help="Seconds between polls.")
def timers(once: bool, interval: float) -> None:
    from .wiring import open_service

    service = open_service().service
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while True:
        fired = service.fire_due_timers()
        for item in fired:
            elements = ", ".join(f"{t['elementId']}@{t['due']}" for t in item["fired"])
            click.echo(f"{item['pathwayId']}: {elements}")
        if once:
            return
        try:
            if stop.wait(interval):
                return
        except KeyboardInterrupt:
            return


@main.group(help="API users and their tokens.")
def users() -> None:
    pass


@users.command("add", help="Create an API token for NAME with one role; prints the token alone on stdout.")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--group", "groups", multiple=True,
              help="A candidate group the user works in (repeatable); they may then claim and complete only "
                   "tasks offered to their groups. Without --group the role alone decides.")
def users_add(name: str, role: str, groups: tuple[str, ...]) -> None:
    from .wiring import open_service

    runtime = open_service()
    with runtime.service.ctx.write() as session:
        token = create_token(session, name, role, runtime.service.clock.now(), groups=list(groups) or None)
    click.echo(token)


@users.command("list", help="Every token: id, name, role, groups, created, revoked (never the token itself).")
def users_list() -> None:
    from .store.tokens import list_tokens
    from .wiring import open_service

    runtime = open_service()
    with runtime.service.ctx.read() as session:
        rows = [(t.id, t.name, t.role, ",".join(t.groups or []) or "-", t.created_at.isoformat(timespec="minutes"),
                 t.revoked_at.isoformat(timespec="minutes") if t.revoked_at else "-") for t in list_tokens(session)]
    click.echo(f"{'id':>4}  {'name':<24} {'role':<14} {'groups':<20} {'created':<25} revoked")
    for row in rows:
        click.echo(f"{row[0]:>4}  {row[1]:<24} {row[2]:<14} {row[3]:<20} {row[4]:<25} {row[5]}")


@users.command("revoke", help="Revoke the token with this id (see 'pathway users list'); it stops working at once.")
@click.argument("token_id", type=int)
def users_revoke(token_id: int) -> None:
    from .store.tokens import revoke_token
    from .wiring import open_service

    runtime = open_service()
    with runtime.service.ctx.write() as session:
        done = revoke_token(session, token_id, runtime.service.clock.now())
    if not done:
        raise click.ClickException(f"no live token with id {token_id}")
    click.echo(f"token {token_id} revoked")


@main.command(help="Enrol patients from a CSV or NDJSON file (see engine/bulk.py for the columns): each row "
                   "registers a patient and starts the pathway in one transaction, or is refused with its "
                   "reason. Exit 0 when every row was enrolled, 1 when some were refused.")
@click.option("--from", "source", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--definition", required=True, help="Pathway key, e.g. ovcf_pathway.")
@click.option("--version", type=int, default=None, help="Definition version (default: the latest).")
@click.option("--actor", default="bulk-enrolment", show_default=True, help="Who the audit trail names.")
@click.option("--refused", "refused_path", type=click.Path(dir_okay=False), default=None,
              help="Write the refused rows (line, externalId, reason) to this CSV file.")
def enrol(source: str, definition: str, version: int | None, actor: str, refused_path: str | None) -> None:
    from pathlib import Path

    from .bulk import count_rows, enrol_file, write_refused
    from .service import ServiceError
    from .wiring import open_service

    path = Path(source)
    service = open_service().service
    try:
        with click.progressbar(length=count_rows(path), label="Enrolling", file=sys.stderr) as bar:
            report = enrol_file(service, path, definition, actor=actor, version=version, progress=bar.update)
    except (ServiceError, ValueError) as exc:  # no such pathway, or a file without its header
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{report.enrolled} of {report.rows} rows enrolled, {len(report.refused)} refused")
    for item in report.refused[:20]:
        click.echo(f"  line {item.line} {item.external_id or '-'}: {item.reason}")
    if refused_path:
        write_refused(report, Path(refused_path))
        click.echo(f"refused rows written to {refused_path}")
    sys.exit(1 if report.refused else 0)


@main.command(help="Run the web app and the HTTP API: one process (waitress, --threads) or, with --workers N > 1, "
                   "N worker processes under gunicorn (Linux; PostgreSQL for real concurrency).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--threads", default=8, show_default=True, type=int, help="Worker threads (per process).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes (gunicorn) sharing the database.")
@click.option("--demo", is_flag=True, help="Fresh SQLite demo: deploy the bundled pathway, enrol demo patients, "
                                          "print one token per role (implies --simulated-clock).")
@click.option("--simulated-clock", is_flag=True, help="Start a simulated clock (moved via /api/clock).")
@click.option("--timer-interval", default=30.0, show_default=True,
              help="Seconds between timer polls on the system clock (0: leave it to 'pathway timers').")
@click.option("--fresh", is_flag=True, help="With --demo: delete the demo's SQLite database and seed it again.")
def serve(host: str, port: int, threads: int, workers: int, demo: bool, simulated_clock: bool,
          timer_interval: float, fresh: bool) -> None:
    if fresh and not demo:
        raise click.UsageError("--fresh only applies to --demo")
    if workers > 1:
        if demo:
            raise click.UsageError("--demo runs one process; seed it once, then serve it with --workers")
        from api.production import run as run_workers

        run_workers(host, port, workers, threads, simulated_clock, timer_interval)
        return
    from api.serve import run

    run(host, port, threads, demo, simulated_clock, timer_interval, fresh)


if __name__ == "__main__":  # pragma: no cover
    main()
