"""Plain SMTP for the few messages the app sends when an installation configures it.

``ALPR_SMTP_URL`` is ``smtp://[user:password@]host[:port]`` (STARTTLS when the server offers
it) or ``smtps://…`` (TLS from the start); unset, nothing is mailed and pages and logs carry
the message alone.
"""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

SCHEMES = {"smtp": 25, "smtps": 465}


def send_mail(
    smtp_url: str,
    sender: str,
    recipients: Sequence[str],
    subject: str,
    body: str,
    *,
    timeout: float = 30,
) -> None:
    """Send one plain-text message to `recipients`; raises on a bad URL or a refusal."""
    url = urlsplit(smtp_url)
    if url.scheme not in SCHEMES or not url.hostname:
        raise ValueError("ALPR_SMTP_URL must be smtp://host[:port] or smtps://host[:port]")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message.set_content(body)
    client = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with client(url.hostname, url.port or SCHEMES[url.scheme], timeout=timeout) as smtp:
        smtp.ehlo()
        if url.scheme == "smtp" and smtp.has_extn("starttls"):
            smtp.starttls()
            smtp.ehlo()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)
