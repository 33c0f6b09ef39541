"""The `lianshen` command: serve, demo, db upgrade, user add."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from server.cli_settings import log_to_file, settings_from, with_db
from server.settings import Settings, SettingsError


def upgrade_database(settings: Settings) -> list[int]:
    """Apply migrations, then store library calendar years that are missing (idempotent)."""
    from server.db.migrate import upgrade
    from server.services.calendar import seed_calendar

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)
    return asyncio.run(with_db(settings, seed_calendar))


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    added = upgrade_database(settings)
    print(f"database at head: {settings.database_url}")
    if added:
        print(f"calendar years added from library: {added[0]}-{added[-1]}")
    return 0


def serve(settings: Settings) -> None:
    from aiohttp import web

    from server.app import build_app
    from server.heap import freeze_after_startup
    from server.tls import server_ssl_context, site_urls

    host, port = settings.server.host, settings.server.port
    urls = "  ".join(site_urls(settings))
    app = build_app(settings)
    freeze_after_startup(app)
    web.run_app(app, host=host, port=port, ssl_context=server_ssl_context(settings.server),
                print=lambda _msg: print(f"Lianshen 联审 running at {urls}  (Ctrl+C to stop)"))


def cmd_serve(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    print(f"log: {log_to_file(settings).resolve()}")
    from server.db.migrate import is_at_head

    if not is_at_head(settings.database_url):
        print("the database schema is not current: run `lianshen db upgrade` first", file=sys.stderr)
        return 2
    serve(settings)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from server.demo.seed import seed_demo, write_demo_json

    settings = settings_from(args)
    if args.lan:
        from server.cli_cert import lan_certificate, with_tls
        from server.tls import trust_instructions

        issued = lan_certificate(settings)
        settings = with_tls(settings, issued, "0.0.0.0")
        ca = issued.ca_certificate.resolve()
        print(trust_instructions(ca) if issued.ca_created
              else f"HTTPS：浏览器需信任 {ca}（见 lianshen cert --help）/ browsers must trust {ca}")
    log = log_to_file(settings)
    upgrade_database(settings)
    summary = asyncio.run(with_db(settings, lambda db: seed_demo(db, settings)))
    path = write_demo_json(settings.data_dir, summary)
    from server.tls import site_urls

    print(f"demo data ready in {settings.data_dir.resolve()} (accounts and meetings: {path}; log: {log.resolve()})")
    print(f"URL: {'  '.join(site_urls(settings))}")
    print(f"{'username':<14} {'password':<20} {'role':<10} department / organisation")
    for account in summary["accounts"]:
        print(f"{account['username']:<14} {account['password']:<20} {account['role']:<10} "
              f"{account.get('department') or account.get('organisation') or ''}")
    if args.no_serve:
        return 0
    serve(settings)
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    from server.domain.roles import Post, Role
    from server.services.people import NewPerson, PeopleError, create_person

    if not args.password_stdin:
        print("--password-stdin is required (passwords are never taken from the command line)",
              file=sys.stderr)
        return 2
    password = sys.stdin.readline().rstrip("\r\n")
    settings = settings_from(args)
    new = NewPerson(username=args.username, display_name=args.name or args.username,
                    role=Role(args.role), password=password, department_code=args.department,
                    post=Post(args.post) if args.post else None, credit_code=args.org)
    try:
        user = asyncio.run(with_db(settings, lambda db: create_person(db, new)))
    except PeopleError as exc:
        print(f"error: {exc.field}: {exc}", file=sys.stderr)
        return 1
    print(f"created {user.username} ({user.role})")
    return 0


def cmd_bot(args: argparse.Namespace) -> int:
    from server.bot.cli import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    from server.domain.roles import Post, Role

    parser = argparse.ArgumentParser(prog="lianshen", description="联审 Lianshen: joint-review meetings")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def site(p: argparse.ArgumentParser) -> None:
        p.add_argument("--host", help="address to listen on (default from settings: 127.0.0.1)")
        p.add_argument("--port", type=int, help="port to listen on (default 8080)")
        p.add_argument("--data-dir", help="data directory (database, recordings, exports)")

    p = commands.add_parser("serve", help="run the server", description="Run the Lianshen server.")
    site(p)
    p.set_defaults(func=cmd_serve)

    p = commands.add_parser("demo", help="migrate, seed demo data, write demo.json, serve",
                            description="Create (idempotently) the demo data and serve it.")
    site(p)
    p.add_argument("--no-serve", action="store_true", help="seed and exit without serving")
    p.add_argument("--lan", action="store_true",
                   help="serve HTTPS on all interfaces with a local certificate (see `lianshen cert`)")
    p.set_defaults(func=cmd_demo)

    db = commands.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    p = db_commands.add_parser("upgrade", help="apply migrations and seed the holiday calendar",
                               description="Apply alembic migrations, then add missing calendar years.")
    p.add_argument("--data-dir", help="data directory")
    p.set_defaults(func=cmd_db_upgrade)

    user = commands.add_parser("user", help="manage accounts", description="Manage accounts.")
    user_commands = user.add_subparsers(dest="user_command", required=True, metavar="COMMAND")
    p = user_commands.add_parser("add", help="create an account",
                                 description="Create an account; the password is read from stdin.")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--department", metavar="CODE", help="department code (chief_rep, chair)")
    p.add_argument("--post", choices=[x.value for x in Post], help="A or B post (chief_rep)")
    p.add_argument("--org", metavar="CREDIT_CODE", help="organisation's 统一社会信用代码 (applicant)")
    p.add_argument("--name", help="display name")
    p.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    p.add_argument("--data-dir", help="data directory")
    p.set_defaults(func=cmd_user_add)

    from server.bot.cli import add_arguments as bot_arguments

    p = commands.add_parser("bot", help="join a meeting as a synthetic participant",
                            description="Join a meeting, publish a test pattern, receive everyone, "
                                        "print one JSON summary.")
    bot_arguments(p)
    p.set_defaults(func=cmd_bot)
    from server.cli_cert import add_parser as cert_parser
    cert_parser(commands)
    from server.cli_minutes import add_parser as minutes_parser
    minutes_parser(commands)
    from server.cli_archive import add_parser as archive_parser
    archive_parser(commands)
    from server.cli_recording import add_commands as recording_commands
    recording_commands(commands)
    from server.cli_backup import add_commands as backup_commands
    backup_commands(commands)
    from server.cli_node import add_commands as node_commands
    node_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
