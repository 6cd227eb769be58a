"""Rotate, revoke, list and import the Ed25519 keys that sign credential badges and event passes."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from backend.core import keys


class Command(BaseCommand):
    help = (
        "Rotate the signing key of a purpose (the old key is retired: it keeps verifying until its "
        "tokens expire), revoke a key (its tokens stop verifying), list keys, or import keys from "
        "LINLI_SIGNING_KEY_FILE. Other processes pick the change up within LINLI_SIGNING_KEYS_RECHECK "
        "seconds (shared cache) or LINLI_SIGNING_KEYS_MAX_AGE seconds (per-process cache)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--purpose", choices=sorted(keys.DOMAINS), action="append", help="rotate this purpose's key"
        )
        parser.add_argument("--revoke", type=int, metavar="KID", help="revoke the key with this id")
        parser.add_argument("--reason", default="", help="why the key is revoked (required with --revoke)")
        parser.add_argument(
            "--import-file", action="store_true", help="register LINLI_SIGNING_KEY_FILE's keys"
        )
        parser.add_argument("--list", action="store_true", help="list all keys")

    def handle(self, *args, **options):
        did = False
        if options["import_file"]:
            added = keys.key_import_file()
            self.stdout.write(f"imported keys: {', '.join(map(str, added)) or 'none'}")
            did = True
        if options["revoke"] is not None:
            if not options["reason"].strip():
                raise CommandError("--revoke needs --reason")
            try:
                row = keys.key_revoke(kid=options["revoke"], reason=options["reason"].strip())
            except Exception as exc:
                if type(exc).__name__ == "DoesNotExist":
                    raise CommandError(f"no signing key {options['revoke']}") from None
                raise
            self.stdout.write(f"revoked key {row.kid} ({row.purpose})")
            did = True
        for purpose in options["purpose"] or []:
            row = keys.key_rotate(purpose=purpose)
            self.stdout.write(f"{purpose}: new active key {row.kid}")
            did = True
        if options["list"] or not did:
            for info in keys.keys_list():
                until = "no expiry" if info.signed_unexpiring else (info.last_expiry or "-")
                self.stdout.write(
                    f"{info.kid:>5}  {info.purpose:<10}  {info.status:<8}  tokens until {until}"
                )
