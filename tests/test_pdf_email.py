"""PDF export judged with poppler (pdfinfo, pdftotext -bbox, pdffonts, pdftohtml's outline),
and email sent for real to an aiosmtpd server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import os
import re
import socket
import ssl
import subprocess
from pathlib import Path

import pytest

from conftest import copy_example, run_knowrepo


def pdfinfo(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


def pdftext(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def words_outside_page(path: Path) -> list[str]:
    """Words whose box ends past the right edge of the page (clipped text)."""
    out = subprocess.run(
        ["pdftotext", "-bbox", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    bad = []
    for page in re.finditer(r'<page width="([\d.]+)" height="[\d.]+">(.*?)</page>', out, re.S):
        width = float(page.group(1))
        for word in re.finditer(
            r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)</word>', page.group(2)
        ):
            if float(word.group(2)) > width - 20 or float(word.group(1)) < 20:
                bad.append(word.group(3))
    return bad


def outline(path: Path) -> str:
    return subprocess.run(
        ["pdftohtml", "-xml", "-i", "-stdout", "-q", str(path)], capture_output=True, text=True, check=True
    ).stdout.split("<outline>", 1)[-1]


@pytest.fixture(scope="module")
def churn_pdf(example_repo: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("pdf") / "churn.pdf"
    run_knowrepo("-C", str(example_repo), "pdf", "product/churn-analysis", "-o", str(target))
    return target


def test_title_block_metadata_and_content(churn_pdf: Path):
    info = pdfinfo(churn_pdf)
    assert info["Title"] == "Customer churn by signup cohort"
    assert info["Author"] == "Ken Okafor, Maria Lopez"
    assert info["Keywords"] == "churn, product, retention"
    assert info["Subject"].startswith("Monthly retention curves")
    assert "A4" in info["Page size"]
    assert info["Tagged"] == "yes"  # PDF/UA-1: structure tags for screen readers
    meta = subprocess.run(["pdfinfo", "-meta", str(churn_pdf)], capture_output=True, text=True).stdout
    assert 'pdfuaid:part="1"' in meta
    text = pdftext(churn_pdf)
    for expected in (
        "Customer churn by signup cohort",
        "Ken Okafor, Maria Lopez",
        "Parameters",
        "n_customers 6000",
        "CONTENTS",
        "Retention curves",
        "enterprise",
        "median_tenure",
    ):
        assert expected in text, expected
    assert re.search(r"Run\s+\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{6}", text)
    assert "\\frac" not in text and "\\beta" not in text  # the formula is drawn, not printed as TeX
    pages = text.split("\f")
    assert int(pdfinfo(churn_pdf)["Pages"]) >= 2
    for number, page_text in enumerate(pages[:2], start=1):
        assert re.search(rf"\b{number}\s*$", page_text), f"page {number} has no page number"
    assert "remove-cell" not in text and "import numpy as np" not in text  # that cell is removed


def test_nothing_is_clipped_and_sections_are_bookmarked(churn_pdf: Path):
    assert words_outside_page(churn_pdf) == []
    marks = outline(churn_pdf)
    assert "Retention curves" in marks and "Churn by plan" in marks


def test_pdf_is_deterministic_and_the_site_serves_the_same_bytes(
    churn_pdf: Path, example_repo: Path, example_site: Path, tmp_path: Path
):
    again = tmp_path / "again.pdf"
    run_knowrepo("-C", str(example_repo), "pdf", "reports/product/churn-analysis.ipynb", "-o", str(again))
    assert again.read_bytes() == churn_pdf.read_bytes()
    published = example_site / "product/churn-analysis/product-churn-analysis.pdf"
    assert published.read_bytes() == churn_pdf.read_bytes()


def pdf_links(path: Path) -> list[str]:
    out = subprocess.run(["pdfinfo", "-url", str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split()[-1] for line in out.splitlines()[1:]]


def test_links_to_other_reports_open_their_pages_never_a_file_of_the_build_machine(
    example_site: Path, tmp_path: Path
):
    # base_url /kr/ (a path): a PDF cannot know the host, so the link is plain text
    published = example_site / "notes/q3-planning-notes/notes-q3-planning-notes.pdf"
    assert pdf_links(published) == []
    assert "warehouse delay analysis" in pdftext(published)
    repo = copy_example(tmp_path / "repo", base_url="https://kb.example.com/analytics")
    target = tmp_path / "notes.pdf"
    run_knowrepo("-C", str(repo), "pdf", "notes/q3-planning-notes", "-o", str(target))
    assert sorted(pdf_links(target)) == [
        "https://kb.example.com/analytics/ops/warehouse-delays/",
        "https://kb.example.com/analytics/science/checkout-ab-test/",
    ]


def test_contents_are_numbered_by_section(tmp_path: Path):
    run_knowrepo("init", str(tmp_path / "kb"))
    sections = "\n\n".join(
        f"## Part {part}\n\ntext\n\n"
        + "\n\n".join(f"### Step {part}{sub}\n\n" + "line\n\n" * 40 for sub in "ab")
        for part in "AB"
    )
    scope = "### Scope\n\nBefore any h2.\n\n"  # a section, not "0.1"
    (tmp_path / "kb/reports/probe.md").write_text(f"---\ntitle: Probe\n---\nIntro.\n\n{scope}{sections}\n")
    run_knowrepo("-C", str(tmp_path / "kb"), "pdf", "probe", "-o", str(tmp_path / "probe.pdf"))
    contents = pdftext(tmp_path / "probe.pdf").split("Intro.", 1)[0]
    found = re.findall(r"(\d(?:\.\d)?)\.? (Scope|Part \w+|Step \w+)", contents)
    assert sorted(found) == [
        ("1", "Scope"),
        ("2", "Part A"),
        ("2.1", "Step Aa"),
        ("2.2", "Step Ab"),
        ("3", "Part B"),
        ("3.1", "Step Ba"),
        ("3.2", "Step Bb"),
    ]


def test_pdf_links_of_every_form_go_to_the_site_within_the_pdf_or_nowhere(tmp_path: Path):
    from knowrepo.exports.pdf import print_links
    from knowrepo.model import Meta, Report

    kb = tmp_path / "kb"
    run_knowrepo("init", str(kb))
    (kb / "knowrepo.toml").write_text(
        '[site]\ntitle = "KB"\nsanitize = false\nbase_url = "https://kb.example.com/"\n'
    )
    forms = (
        "[own section](probe.md#results), [draft](draft.md), "
        "<a title='x > y' href=\"other.md\">quoted &gt;</a>, <a href='other.md'>single quotes</a>"
    )
    (kb / "reports/probe.md").write_text(f"---\ntitle: Probe\n---\n{forms}\n\n## Results\n\nShown.\n")
    (kb / "reports/other.md").write_text("---\ntitle: Other\n---\nText.\n")
    (kb / "reports/draft.md").write_text("---\ntitle: Draft\ndraft: true\n---\nText.\n")
    run_knowrepo("-C", str(kb), "pdf", "probe", "-o", str(tmp_path / "probe.pdf"))
    links = pdf_links(tmp_path / "probe.pdf")
    assert sorted(links) == ["https://kb.example.com/other/"] * 2  # the draft is not on the site
    assert not any(link.startswith("file:") or "draft/" in link or "#results" in link for link in links)
    report = Report("probe", "probe.md", "markdown", Meta(title="Probe"), source_hash="", date="")
    body = print_links('<a href="../probe/#results">r</a> <a href="./#results">s</a>', report, {}, None)
    assert body.count('href="#results"') == 2  # a link within the PDF, base_url or not


def test_variants_give_one_file_each_with_default_names(example_repo: Path, tmp_path: Path):
    proc = subprocess.run(
        [os.sys.executable, "-m", "knowrepo", "-C", str(example_repo), "pdf", "sales/monthly-revenue"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in tmp_path.glob("*.pdf"))
    assert names == [
        "sales-monthly-revenue-apac.pdf",
        "sales-monthly-revenue-eu.pdf",
        "sales-monthly-revenue-us.pdf",
    ]
    assert "region US" in pdftext(tmp_path / "sales-monthly-revenue-us.pdf")


def test_wide_tables_long_code_accents_cjk_and_letter_paper(tmp_path: Path):
    repo = tmp_path / "kb"
    (repo / "reports").mkdir(parents=True)
    (repo / "knowrepo.toml").write_text('[pdf]\npaper = "Letter"\n')
    header = "| " + " | ".join(f"column_{i}" for i in range(16)) + " |"
    rows = "\n".join("| " + " | ".join(f"{r * 1000 + i:,}" for i in range(16)) + " |" for r in range(5))
    (repo / "reports/wide.md").write_text(
        "---\ntitle: Café Zürich 東京 データ\nauthors: [Zoë Ångström]\n---\n\n"
        "# Intro\n\nNaïve façade, 日本語のテキスト.\n\n"
        f"## Table\n\n{header}\n|{'---|' * 16}\n{rows}\n\n## Code\n\n```python\n"
        "result = compute_something_with_a_very_long_name(argument_one=1, argument_two=2, "
        "argument_three=3, argument_four=4, argument_five=5)\n```\n\nEuler: $e^{i\\pi} + 1 = 0$.\n"
    )
    target = tmp_path / "wide.pdf"
    run_knowrepo("-C", str(repo), "pdf", "wide", "-o", str(target))
    info = pdfinfo(target)
    assert "letter" in info["Page size"]
    text = pdftext(target)
    for expected in ("Café Zürich 東京 データ", "Zoë Ångström", "日本語のテキスト", "column_", "4,015"):
        assert expected in text, expected
    assert words_outside_page(target) == []
    fonts = subprocess.run(["pdffonts", str(target)], capture_output=True, text=True, check=True).stdout
    assert "Droid" in fonts  # CJK glyphs come from a real font, not empty boxes
    assert "Inter" in fonts


# ---- email ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps every message and refuses addresses at refused.test."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.endswith("@refused.test"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


@pytest.fixture()
def smtp():
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture()
def mail_repo(tmp_path: Path, example_repo: Path) -> Path:
    repo = copy_example(tmp_path / "repo", runs_from=example_repo)
    (repo / ".knowrepo").mkdir()
    # the render cache of the session build, so exports need not render again
    subprocess.run(["cp", "-r", str(example_repo / ".knowrepo/cache"), str(repo / ".knowrepo/")], check=True)
    return repo


def configure(repo: Path, port: int, extra: str = 'security = "none"') -> None:
    config = repo / "knowrepo.toml"
    text = re.sub(r"\[email\].*", "", config.read_text(), flags=re.S)
    config.write_text(
        text + f'[email]\nhost = "127.0.0.1"\nport = {port}\nsender = "kr@example.com"\n{extra}\n'
    )


def test_email_with_pdf_and_both_body_parts(smtp, mail_repo: Path, tmp_path: Path):
    inbox, port = smtp
    configure(mail_repo, port)
    run_knowrepo(
        "-C",
        str(mail_repo),
        "email",
        "product/churn-analysis",
        "--to",
        "ann@example.com",
        "--cc",
        "bob@example.com",
    )
    ((rcpts, raw),) = inbox.messages
    assert rcpts == ["ann@example.com", "bob@example.com"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"].startswith("Customer churn by signup cohort")
    assert message["Cc"] == "bob@example.com"
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Monthly retention curves" in plain and "Monthly retention curves" in html
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "product-churn-analysis.pdf"
    pdf = tmp_path / "direct.pdf"
    run_knowrepo("-C", str(mail_repo), "pdf", "product/churn-analysis", "-o", str(pdf))
    assert attachment.get_content() == pdf.read_bytes()


def test_front_matter_recipients_per_variant_and_subject(smtp, mail_repo: Path):
    inbox, port = smtp
    configure(mail_repo, port)
    run_knowrepo("-C", str(mail_repo), "email", "sales/monthly-revenue")
    parsed = [
        (rcpts, email.message_from_bytes(raw, policy=email.policy.default)) for rcpts, raw in inbox.messages
    ]
    assert {m["Subject"]: rcpts for rcpts, m in parsed} == {
        "Monthly revenue EU, 2026-10": ["eu-lead@example.com"],  # the variant's own readers
        "Monthly revenue US, 2026-10": ["regional-leads@example.com"],
        "Monthly revenue APAC, 2026-10": ["regional-leads@example.com"],
    }
    for _rcpts, message in parsed:
        assert "revenue: " in message.get_body(("plain",)).get_content()  # the run's key figures


def test_refused_recipient_sends_nothing(smtp, mail_repo: Path):
    inbox, port = smtp
    configure(mail_repo, port)
    proc = run_knowrepo(
        "-C",
        str(mail_repo),
        "email",
        "product/churn-analysis",
        "--to",
        "ann@example.com",
        "--to",
        "ghost@refused.test",
        check=False,
    )
    assert proc.returncode == 1
    assert "recipient ghost@refused.test refused: 550" in proc.stderr
    assert inbox.messages == []


def test_server_down_is_a_clear_error(mail_repo: Path):
    configure(mail_repo, free_port())
    proc = run_knowrepo(
        "-C", str(mail_repo), "email", "product/churn-analysis", "--to", "a@example.com", check=False
    )
    assert proc.returncode == 1
    assert re.search(r"SMTP server 127\.0\.0\.1:\d+: cannot connect: Connection refused", proc.stderr)


def test_dry_run_writes_eml(mail_repo: Path, tmp_path: Path):
    run_knowrepo(
        "-C",
        str(mail_repo),
        "email",
        "product/churn-analysis",
        "--to",
        "a@example.com",
        "--dry-run",
        "-o",
        str(tmp_path / "out"),
    )
    (eml,) = (tmp_path / "out").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["To"] == "a@example.com"


@pytest.fixture()
def tls_smtp(tmp_path: Path):
    """aiosmtpd with STARTTLS required (self-signed certificate) and AUTH (user kr, password s3cret)."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login in (b"kr", "kr") and auth_data.password in (b"s3cret", "s3cret")
        return AuthResult(success=ok, handled=False)  # not handled: aiosmtpd answers 535 itself

    inbox = Inbox()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=context,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    yield inbox, controller.port, cert
    controller.stop()


def test_starttls_auth_and_certificate_checks(tls_smtp, mail_repo: Path):
    inbox, port, cert = tls_smtp
    configure(mail_repo, port, 'security = "starttls"\nuser = "kr"\npassword_env = "KR_SMTP_PASSWORD"')
    base = [
        os.sys.executable,
        "-m",
        "knowrepo",
        "-C",
        str(mail_repo),
        "-v",
        "email",
        "product/churn-analysis",
        "--to",
        "a@example.com",
    ]
    env = {**os.environ, "KR_SMTP_PASSWORD": "s3cret"}
    untrusted = subprocess.run(base, capture_output=True, text=True, env=env)
    assert untrusted.returncode == 1 and "certificate not trusted" in untrusted.stderr
    trusted = {**env, "SSL_CERT_FILE": str(cert)}
    wrong = subprocess.run(base, capture_output=True, text=True, env={**trusted, "KR_SMTP_PASSWORD": "nope"})
    assert wrong.returncode == 1 and "authentication failed for user kr" in wrong.stderr
    good = subprocess.run(base, capture_output=True, text=True, env=trusted)
    assert good.returncode == 0, good.stderr
    assert len(inbox.messages) == 1
    for proc in (untrusted, wrong, good):
        assert "s3cret" not in proc.stdout + proc.stderr  # the password is never printed
