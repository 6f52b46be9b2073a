"""Email over SMTP with STARTTLS (or implicit TLS), optional login; a digest per delivery by default.

With ``digest: true`` (the default, meant for P2/P3 routes) every notification waiting for this
channel goes out in one message; ``digest: false`` sends one message each. The password is only
ever sent after TLS is up (the config refuses it otherwise), and the certificate is verified
against the system store or ``ca_file``.
"""

from __future__ import annotations

import smtplib
import ssl
from collections import Counter
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from sloguard.config.alerts import EmailChannel as EmailConfig

from ..notification import Kind, Notification, describe_delay
from .base import Channel, DeliveryError

_SUBJECT_MAX = 200
DIGEST_MAX = 100  # notifications per digest message


def _cut(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def section(n: Notification) -> str:
    """The plain-text block of one notification."""
    lines = [n.title(),
             f"  respond within {describe_delay(n.response_target)}, resolve within "
             f"{describe_delay(n.resolution_target)}",
             f"  target: {n.target}", f"  scope: {n.scope}",
             f"  run: {n.run_id}" + (f" ({n.suite})" if n.suite else "")]
    if n.report_url:
        lines.append(f"  report: {n.report_url}")
    if n.runbook_url:
        lines.append(f"  runbook: {n.runbook_url}")
    if n.details and n.kind is not Kind.RESOLVE:
        lines.append("  findings:")
        lines += [f"    - {d}" for d in n.details]
        if n.count > len(n.details):
            lines.append(f"    … {n.count - len(n.details)} more")
    lines.append(f"  fingerprint: {n.fingerprint}")
    return "\n".join(lines)


class EmailChannel(Channel[EmailConfig]):
    kind = "email"

    def validate(self) -> None:
        if self.config.password is not None:
            self.secret(self.config.password.get_secret_value())
        self.tls: ssl.SSLContext | None = None
        if self.config.starttls or self.config.ssl:
            try:
                context = ssl.create_default_context(cafile=str(self.config.ca_file) if self.config.ca_file else None)
            except FileNotFoundError:
                raise self.fail(f"ca_file {self.config.ca_file} not found; give the path of a PEM file") from None
            except (ssl.SSLError, OSError) as exc:
                raise self.fail(f"ca_file {self.config.ca_file} is not a PEM certificate file ({exc})") from None
            if not self.config.verify_tls:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self.tls = context
        elif self.config.ca_file is not None:
            raise self.fail("ca_file is set but TLS is off; set starttls: true (or ssl: true), or drop ca_file")
        self.batch_size = DIGEST_MAX if self.config.digest else 1

    def describe(self) -> str:
        return f"email ({self.config.smtp_host}:{self.config.smtp_port})"

    # ------------------------------------------------------------ messages

    def subject(self, batch: Sequence[Notification]) -> str:
        prefix = self.config.subject_prefix
        if len(batch) == 1:
            return _cut(f"{prefix} {batch[0].title()}", _SUBJECT_MAX)
        states = Counter(n.state for n in batch)
        worst = min(n.severity for n in batch)
        counts = ", ".join(f"{k} {states[k]}" for k in ("firing", "resolved") if states[k])
        return _cut(f"{prefix} {len(batch)} alerts ({counts}; most severe {worst.value})", _SUBJECT_MAX)

    def message(self, batch: Sequence[Notification]) -> EmailMessage:
        msg = EmailMessage()
        msg["Subject"] = self.subject(batch)
        msg["From"] = self.config.sender
        msg["To"] = ", ".join(self.config.to)
        msg["Date"] = formatdate(localtime=False, usegmt=True)
        msg["Message-ID"] = make_msgid(domain="sloguard")
        msg["X-Sloguard-Delivery"] = ",".join(n.id for n in batch)[:900]
        intro = ("sloguard alert digest" if len(batch) > 1 else "sloguard alert") + " — most severe first\n\n"
        ordered = sorted(batch, key=lambda n: (n.resolved, n.severity.rank))
        msg.set_content(intro + "\n\n".join(section(n) for n in ordered) + "\n")
        return msg

    def payloads(self, batch: Sequence[Notification]) -> list[Any]:
        if not batch:
            return []
        groups = [list(batch)] if self.config.digest else [[n] for n in batch]
        return [{"from": self.config.sender, "to": list(self.config.to), "subject": self.subject(g),
                 "body": self.message(g).get_content()} for g in groups]

    # ------------------------------------------------------------ delivery

    def deliver(self, batch: Sequence[Notification]) -> None:
        if not batch:
            return
        groups = [list(batch)] if self.config.digest else [[n] for n in batch]
        try:
            with self._connect() as smtp:
                for group in groups:
                    smtp.send_message(self.message(group), from_addr=self.config.sender, to_addrs=self.config.to)
        except DeliveryError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP login refused ({exc.smtp_code}); check username and password",
                                retryable=False) from None
        except smtplib.SMTPRecipientsRefused:
            raise DeliveryError("the SMTP server refused every recipient; check `to`", retryable=False) from None
        except smtplib.SMTPResponseException as exc:
            text = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise DeliveryError(f"SMTP {exc.smtp_code}: {text[:200]}",
                                retryable=400 <= exc.smtp_code < 500) from None
        except ssl.SSLCertVerificationError as exc:
            raise DeliveryError(f"TLS certificate not trusted ({exc.verify_message}); set ca_file",
                                retryable=False) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP: {type(exc).__name__}: {str(exc)[:160]}") from None

    def _connect(self) -> smtplib.SMTP:
        host, port, timeout = self.config.smtp_host, self.config.smtp_port, self.settings.timeout_s
        smtp: smtplib.SMTP
        if self.config.ssl:
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=self.tls)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
        try:
            smtp.ehlo()
            if self.config.starttls:
                if not smtp.has_extn("starttls"):
                    raise DeliveryError("the SMTP server does not offer STARTTLS; it is required (starttls: true)",
                                        retryable=False)
                smtp.starttls(context=self.tls)
                smtp.ehlo()
            if self.config.username and self.config.password is not None:
                smtp.login(self.config.username, self.config.password.get_secret_value())
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, notification: Notification) -> None:
        self.deliver([notification])

    def resolve(self, notification: Notification) -> None:
        self.deliver([notification])
