"""The 33 integrations of the ATOM plan and the resource model behind their API, as data.

The types and the field vocabulary are in `sloguard.reference.resources`. One model feeds everything:
the handlers validate and store records with it, the OpenAPI description is generated from it, and
seed data is faked from it. So the description cannot drift from the behaviour unless a fault
(``schema_drift``) makes it.
"""

from __future__ import annotations

from typing import Any

from .resources import Field, Integration, Resource, b, date, dt, e, email, i, n, ref, s, tags, text, title, url

INTEGRATIONS: dict[str, str] = {
    "slack": "Slack",
    "microsoft-teams": "Microsoft Teams",
    "discord": "Discord",
    "google-chat": "Google Chat",
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "zoom": "Zoom",
    "google-drive": "Google Drive",
    "dropbox": "Dropbox",
    "box": "Box",
    "onedrive": "OneDrive",
    "github": "GitHub",
    "asana": "Asana",
    "notion": "Notion",
    "linear": "Linear",
    "monday": "Monday.com",
    "trello": "Trello",
    "jira": "Jira",
    "gitlab": "GitLab",
    "salesforce": "Salesforce",
    "hubspot": "HubSpot",
    "intercom": "Intercom",
    "freshdesk": "Freshdesk",
    "zendesk": "Zendesk",
    "stripe": "Stripe",
    "quickbooks": "QuickBooks",
    "xero": "Xero",
    "mailchimp": "Mailchimp",
    "hubspot-marketing": "HubSpot Marketing",
    "tableau": "Tableau",
    "google-analytics": "Google Analytics",
    "figma": "Figma",
    "shopify": "Shopify",
}

PLATFORM = "platform"  # the pseudo-integration that owns tasks and workflows

R = Resource


def _model() -> tuple[Integration, ...]:
    comms, files, work, crm, finance, marketing, analytics, design = (
        "communication", "storage", "productivity", "crm & support", "finance", "marketing", "analytics",
        "design & commerce",
    )
    return (
        Integration("slack", "Slack", comms, (
            R("messages", (
                ref("channel", "C024BE91L", description="channel id"),
                text("text", "Deploy of v2.3 finished", required=True, min_length=1),
                s("user", "U023BECGF", max_length=32), s("thread_ts", "1712345678.000200", max_length=32),
                b("unfurl_links", False),
            ), "text"),
            R("channels", (
                title("name", "release-train", pattern="^[a-z0-9_-]{1,80}$", faker=None, max_length=80),
                b("is_private", False), text("topic", "Shipping status and release notes", max_length=250),
                i("member_count", 42),
            ), "name"),
        )),
        Integration("microsoft-teams", "Microsoft Teams", comms, (
            R("messages", (
                ref("channel_id", "19:a1b2c3@thread.tacv2"),
                text("content", "Standup moved to 10:30", required=True, min_length=1),
                e("importance", ("normal", "high", "urgent"), default="normal"),
                email("from_user", "megan.bowen@contoso.test"),
            ), "content"),
            R("channels", (
                title("display_name", "Incident Response", max_length=50),
                text("description", "Where we coordinate incidents"),
                e("membership_type", ("standard", "private", "shared"), default="standard"),
            ), "display_name"),
            R("meetings", (
                title("subject", "Quarterly planning"), dt("start_time", "2025-03-04T15:00:00Z", required=True),
                dt("end_time", "2025-03-04T16:00:00Z"), url("join_url", "https://teams.example.test/l/meetup/19"),
            ), "subject"),
        )),
        Integration("discord", "Discord", comms, (
            R("messages", (
                ref("channel_id", "1081123456789012345"),
                text("content", "Patch notes for build 812 are out", required=True, min_length=1, max_length=2000),
                b("tts", False), s("author", "release-bot#0001", faker="user_name", max_length=64),
            ), "content"),
            R("channels", (
                title("name", "announcements", max_length=100), e("type", ("text", "voice", "announcement")),
                text("topic", "Official news only", max_length=1024), b("nsfw", False),
            ), "name"),
        )),
        Integration("google-chat", "Google Chat", comms, (
            R("messages", (
                ref("space", "spaces/AAAA1234"), text("text", "Build is green again", required=True, min_length=1),
                s("thread_key", "build-status", max_length=64),
            ), "text"),
            R("spaces", (
                title("display_name", "SRE on-call", max_length=128),
                e("space_type", ("SPACE", "GROUP_CHAT", "DIRECT_MESSAGE")), b("external_user_allowed", False),
            ), "display_name"),
        )),
        Integration("telegram", "Telegram", comms, (
            R("messages", (
                i("chat_id", 123456789, required=True, minimum=1),
                text("text", "Order #1042 shipped", required=True, min_length=1),
                e("parse_mode", ("plain", "MarkdownV2", "HTML"), default="plain"), b("disable_notification", False),
            ), "text"),
            R("chats", (
                title("title", "Ops alerts"), e("type", ("group", "supergroup", "channel", "private")),
                s("username", "ops_alerts", faker="user_name", max_length=32),
            ), "title"),
        )),
        Integration("whatsapp", "WhatsApp", comms, (
            R("messages", (
                s("to", "+14155550123", required=True, pattern="^\\+[1-9][0-9]{6,14}$", max_length=16),
                text("body", "Your appointment is confirmed for 9:00", required=True, min_length=1, max_length=4096),
                e("type", ("text", "template", "image"), default="text"),
                e("status", ("sent", "delivered", "read", "failed"), default="sent"),
            ), "body"),
            R("templates", (
                title("name", "appointment_reminder", pattern="^[a-z0-9_]{1,512}$", faker=None, max_length=512),
                s("language", "en_US", required=True, max_length=8), e("category", ("UTILITY", "MARKETING",
                                                                                    "AUTHENTICATION")),
                text("body_text", "Hi {{1}}, see you at {{2}}.", required=True, min_length=1, max_length=1024),
            ), "name"),
        )),
        Integration("zoom", "Zoom", comms, (
            R("meetings", (
                title("topic", "Customer onboarding call", max_length=200),
                dt("start_time", "2025-03-05T17:00:00Z", required=True),
                i("duration", 45, minimum=1, maximum=1440, description="minutes"),
                s("timezone", "America/New_York", faker="timezone", max_length=64),
                text("agenda", "Walk through the admin console", max_length=2000),
                url("join_url", "https://zoom.example.test/j/85012345678"),
            ), "topic", text_field="agenda"),
            R("recordings", (
                ref("meeting_id", "85012345678"), title("topic", "Customer onboarding call", max_length=200),
                e("recording_type", ("shared_screen_with_speaker_view", "audio_only", "chat_file")),
                i("file_size", 73400320), url("download_url", "https://zoom.example.test/rec/download/abc"),
            ), "topic"),
        )),
        Integration("google-drive", "Google Drive", files, (
            R("files", (
                title("name", "Q3 roadmap.pdf", faker="file_name"),
                s("mime_type", "application/pdf", required=True, faker="mime_type", max_length=127),
                i("size", 482133), s("parent_id", "0AHd7PqS5Hf7YUk9PVA", max_length=64),
                url("web_view_link", "https://drive.example.test/file/d/1a2b3c/view"), b("starred", False),
                text("description", "Roadmap shared with the board", max_length=2000),
            ), "name", text_field="description"),
            R("folders", (
                title("name", "Finance 2025"), s("parent_id", "root", max_length=64),
                s("color_rgb", "#4986e7", faker="color", pattern="^#[0-9a-fA-F]{6}$", max_length=7),
            ), "name"),
        )),
        Integration("dropbox", "Dropbox", files, (
            R("files", (
                title("name", "contract-signed.pdf", faker="file_name"),
                s("path_display", "/Legal/contract-signed.pdf", required=True, faker="file_path", max_length=1024),
                i("size", 102400), s("content_hash", "e3b0c44298fc1c149afbf4c8996fb924", max_length=64),
            ), "name"),
            R("folders", (
                title("name", "Legal"), s("path_display", "/Legal", required=True, faker="file_path",
                                          max_length=1024),
            ), "name"),
            R("shared_links", (
                url("url", "https://dropbox.example.test/s/abc123/contract.pdf", required=True),
                title("path", "/Legal/contract-signed.pdf", faker="file_path", max_length=1024),
                e("visibility", ("public", "team_only", "password"), default="team_only"),
                dt("expires", "2025-12-31T23:59:59Z"),
            ), "path"),
        )),
        Integration("box", "Box", files, (
            R("files", (
                title("name", "brand-guidelines.pdf", faker="file_name"), ref("parent_folder_id", "0"),
                i("size", 2048000), s("sha1", "85136c79cbf9fe36bb9d05d0639c70c265c18d37", faker="sha1",
                                      max_length=40),
                text("description", "Latest brand book", max_length=256),
            ), "name", text_field="description"),
            R("folders", (
                title("name", "Marketing"), s("parent_folder_id", "0", max_length=64),
                text("description", "Campaign assets", max_length=256),
            ), "name"),
        )),
        Integration("onedrive", "OneDrive", files, (
            R("items", (
                title("name", "Budget.xlsx", faker="file_name"), i("size", 35672),
                url("web_url", "https://onedrive.example.test/Budget.xlsx"),
                s("file_mime_type", "application/vnd.ms-excel", faker="mime_type", max_length=127),
                s("parent_path", "/drive/root:/Finance", max_length=1024),
                text("description", "FY25 budget draft", max_length=1024),
            ), "name", text_field="description"),
            R("shares", (
                ref("item_id", "01BYE5RZ6QN3ZWBTUFOFD3GSPGOHDJD36K"),
                e("link_type", ("view", "edit", "embed")), e("scope", ("anonymous", "organization")),
                title("name", "Budget.xlsx", faker="file_name"),
            ), "name", singular="share"),
        )),
        Integration("github", "GitHub", work, (
            R("issues", (
                title("title", "Login page returns 500 on Safari"),
                ref("repository", "atom-org/atom-web", pattern="^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"),
                text("body", "Steps to reproduce: open /login in Safari 17", max_length=65536),
                e("state", ("open", "closed"), default="open"), tags("labels", ["bug", "p1"]),
                s("assignee", "octocat", faker="user_name", max_length=39),
            ), "title", text_field="body"),
            R("pull_requests", (
                title("title", "Fix Safari login redirect"), ref("head", "fix/safari-login"), ref("base", "main"),
                e("state", ("open", "closed", "merged"), default="open"), b("draft", False),
                text("body", "Closes #812", max_length=65536),
            ), "title"),
            R("repositories", (
                title("name", "atom-web", pattern="^[A-Za-z0-9_.-]{1,100}$", faker=None, max_length=100),
                b("private", True), s("default_branch", "main", max_length=255),
                text("description", "ATOM web front end", max_length=350),
            ), "name"),
        )),
        Integration("asana", "Asana", work, (
            R("tasks", (
                title("name", "Prepare launch checklist"), text("notes", "Include rollback steps"),
                b("completed", False), date("due_on", "2025-04-01"), email("assignee", "sam@acme.test"),
                s("project_id", "1204567890123456", max_length=32),
            ), "name"),
            R("projects", (
                title("name", "Spring launch"), e("color", ("light-green", "dark-blue", "light-red", "none")),
                b("archived", False), text("notes", "Cross-team launch plan"),
            ), "name"),
        )),
        Integration("notion", "Notion", work, (
            R("pages", (
                title("title", "Incident 2025-03-02 postmortem"), ref("parent_id", "7d0f9b3a-1c2e-4b1a-9d4b"),
                s("icon", "📝", max_length=8), url("url", "https://notion.example.test/Incident-7d0f9b3a"),
                b("archived", False), text("content", "Timeline, impact, root cause", max_length=20000),
            ), "title", text_field="content"),
            R("databases", (
                title("title", "Engineering roadmap"), text("description", "All planned epics"),
                b("is_inline", False),
            ), "title"),
        )),
        Integration("linear", "Linear", work, (
            R("issues", (
                title("title", "Flaky checkout test"),
                ref("team_key", "ENG", pattern="^[A-Z]{2,5}$"), text("description", "Fails 1 in 20 runs on CI"),
                e("priority", (0, 1, 2, 3, 4), 2, description="0 none, 1 urgent .. 4 low"),
                e("state", ("backlog", "todo", "in_progress", "done", "canceled"), default="backlog"),
                n("estimate", 3, maximum=100),
            ), "title", text_field="description"),
            R("projects", (
                title("name", "Checkout v2"),
                e("state", ("planned", "started", "paused", "completed", "canceled"), default="planned"),
                date("target_date", "2025-06-30"), email("lead", "priya@acme.test"),
            ), "name"),
        )),
        Integration("monday", "Monday.com", work, (
            R("items", (
                title("name", "Website refresh"), ref("board_id", "3456789012"),
                s("group_title", "This week", max_length=255), e("status", ("Working on it", "Done", "Stuck")),
                email("person", "lee@acme.test"), date("due_date", "2025-05-15"),
            ), "name"),
            R("boards", (
                title("name", "Marketing sprint"), e("board_kind", ("public", "private", "share")),
                text("description", "Two-week marketing sprint"),
            ), "name"),
        )),
        Integration("trello", "Trello", work, (
            R("cards", (
                title("name", "Write release notes"), ref("list_id", "5abbe4b7ddc1b351ef961414"),
                text("desc", "Cover the new dashboards", max_length=16384), dt("due", "2025-03-10T12:00:00Z"),
                b("closed", False), tags("labels", ["docs"]),
            ), "name", text_field="desc"),
            R("boards", (
                title("name", "Product roadmap"), text("desc", "Quarterly themes", max_length=16384),
                b("closed", False), url("url", "https://trello.example.test/b/nC8QJJoZ"),
            ), "name"),
            R("lists", (
                title("name", "In review"), ref("board_id", "5abbe4b7ddc1b351ef961414"),
                n("pos", 16384, maximum=1e9), b("closed", False),
            ), "name"),
        )),
        Integration("jira", "Jira", work, (
            R("issues", (
                title("summary", "Payment webhook retries exhausted"),
                ref("project_key", "PAY", pattern="^[A-Z][A-Z0-9]{1,9}$"),
                e("issue_type", ("Bug", "Task", "Story", "Epic"), required=True),
                e("priority", ("Medium", "Highest", "High", "Low", "Lowest"), default="Medium"),
                e("status", ("To Do", "In Progress", "Done"), default="To Do"),
                text("description", "Retries stop after 3 attempts", max_length=32767),
                email("assignee", "dana@acme.test"), n("story_points", 5, maximum=100),
            ), "summary", text_field="description"),
            R("projects", (
                s("key", "PAY", required=True, pattern="^[A-Z][A-Z0-9]{1,9}$", max_length=10),
                title("name", "Payments"), e("project_type", ("software", "service_desk", "business")),
                email("lead", "dana@acme.test"),
            ), "name"),
            R("sprints", (
                title("name", "PAY Sprint 14"), e("state", ("future", "active", "closed"), default="future"),
                dt("start_date", "2025-03-03T09:00:00Z"), dt("end_date", "2025-03-17T17:00:00Z"),
                text("goal", "Ship webhook retries", max_length=1000),
            ), "name"),
        )),
        Integration("gitlab", "GitLab", work, (
            R("issues", (
                title("title", "Runner out of disk on large builds"), i("project_id", 278964, required=True,
                                                                         minimum=1),
                text("description", "Builds over 4 GB fail", max_length=1048576),
                e("state", ("opened", "closed"), default="opened"), tags("labels", ["ci", "infra"]),
                i("weight", 3, maximum=100),
            ), "title", text_field="description"),
            R("merge_requests", (
                title("title", "Increase runner disk to 100 GB"), ref("source_branch", "infra/runner-disk"),
                ref("target_branch", "main"), e("state", ("opened", "merged", "closed"), default="opened"),
                b("draft", False),
            ), "title"),
            R("pipelines", (
                title("ref", "main", faker=None, max_length=255), s("sha", "a91957a858320c0e17f3a0eca7cfacbff50ea29a",
                                                                   required=True, pattern="^[0-9a-f]{40}$",
                                                                   faker="sha1", max_length=40),
                e("status", ("created", "pending", "running", "success", "failed", "canceled"), default="created"),
            ), "ref"),
        )),
        Integration("salesforce", "Salesforce", crm, (
            R("leads", (
                s("first_name", "Ada", faker="first_name", max_length=40),
                title("last_name", "Lovelace", faker="last_name", max_length=80),
                title("company", "Analytical Engines Ltd", faker="company"), email("email", "ada@engines.test"),
                e("status", ("Open - Not Contacted", "Working - Contacted", "Closed - Converted",
                             "Closed - Not Converted"), default="Open - Not Contacted"),
                s("lead_source", "Web", max_length=40), text("description", "Asked for an enterprise demo"),
            ), "company", text_field="description"),
            R("opportunities", (
                title("name", "Analytical Engines - 200 seats"),
                e("stage_name", ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won",
                                 "Closed Lost"), required=True),
                n("amount", 48000.0), date("close_date", "2025-06-30", required=True),
                i("probability", 20, maximum=100),
            ), "name"),
            R("accounts", (
                title("name", "Analytical Engines Ltd", faker="company"), s("industry", "Manufacturing",
                                                                            max_length=40),
                url("website", "https://engines.example.test"), n("annual_revenue", 12500000.0),
                i("number_of_employees", 250),
            ), "name"),
        )),
        Integration("hubspot", "HubSpot", crm, (
            R("contacts", (
                email("email", "grace@navy.test", required=True), s("firstname", "Grace", faker="first_name"),
                title("lastname", "Hopper", required=False, faker="last_name"),
                s("phone", "+1 555 0100", faker="phone_number", max_length=40),
                s("company", "Navy Labs", faker="company"),
                e("lifecyclestage", ("lead", "subscriber", "marketingqualifiedlead", "salesqualifiedlead",
                                     "opportunity", "customer"), default="lead"),
                text("notes", "Met at re:Invent", max_length=65536),
            ), "email", text_field="notes"),
            R("deals", (
                title("dealname", "Navy Labs - annual plan"), n("amount", 24000.0),
                e("dealstage", ("appointmentscheduled", "qualifiedtobuy", "presentationscheduled",
                                "decisionmakerboughtin", "contractsent", "closedwon", "closedlost"), required=True),
                s("pipeline", "default", max_length=64), dt("closedate", "2025-05-31T00:00:00Z"),
            ), "dealname"),
            R("companies", (
                title("name", "Navy Labs", faker="company"),
                s("domain", "navylabs.test", required=True, format="hostname", faker="domain_name"),
                s("industry", "COMPUTER_SOFTWARE", max_length=64), i("numberofemployees", 120),
            ), "name", singular="company"),
        )),
        Integration("intercom", "Intercom", crm, (
            R("conversations", (
                email("contact_email", "kim@customer.test", required=True),
                title("subject", "Cannot reset my password"),
                text("body", "The reset link says it expired", required=True, min_length=1),
                e("state", ("open", "closed", "snoozed"), default="open"),
                e("priority", ("not_priority", "priority"), default="not_priority"),
            ), "subject", text_field="body"),
            R("contacts", (
                email("email", "kim@customer.test", required=True), title("name", "Kim Lee", required=False,
                                                                          faker="name"),
                e("role", ("user", "lead"), default="user"), s("phone", "+1 555 0199", faker="phone_number",
                                                                max_length=40),
            ), "email"),
        )),
        Integration("freshdesk", "Freshdesk", crm, (
            R("tickets", (
                title("subject", "Invoice shows the wrong VAT number"),
                text("description", "Our VAT number changed in January", required=True, min_length=1),
                email("email", "billing@customer.test", required=True),
                e("priority", (1, 2, 3, 4), 1, description="1 low .. 4 urgent"),
                e("status", (2, 3, 4, 5), 2, description="2 open, 3 pending, 4 resolved, 5 closed"),
                e("type", ("Question", "Incident", "Problem", "Feature Request")),
            ), "subject", text_field="description"),
            R("contacts", (
                title("name", "Ravi Patel", faker="name"), email("email", "ravi@customer.test", required=True),
                s("phone", "+44 20 7946 0958", faker="phone_number", max_length=40), i("company_id", 1001),
            ), "name"),
        )),
        Integration("zendesk", "Zendesk", crm, (
            R("tickets", (
                title("subject", "Export to CSV times out"),
                text("description", "Exports over 10k rows never finish", required=True, min_length=1),
                e("priority", ("normal", "low", "high", "urgent"), default="normal"),
                e("status", ("new", "open", "pending", "hold", "solved", "closed"), default="new"),
                email("requester_email", "ops@customer.test", required=True), tags("tags", ["export", "timeout"]),
            ), "subject", text_field="description"),
            R("users", (
                title("name", "Maria Garcia", faker="name"), email("email", "maria@customer.test", required=True),
                e("role", ("end-user", "agent", "admin"), default="end-user"),
            ), "name"),
            R("organizations", (
                title("name", "Customer Corp", faker="company"), tags("domain_names", ["customer.test"]),
                text("details", "Enterprise plan since 2022", max_length=1000),
            ), "name"),
        )),
        Integration("stripe", "Stripe", finance, (
            R("customers", (
                email("email", "jenny.rosen@example.test", required=True), s("name", "Jenny Rosen", faker="name"),
                text("description", "Enterprise customer, net-30", max_length=350),
                s("phone", "+1 555 0142", faker="phone_number", max_length=40), i("balance", 0, minimum=-100000000),
            ), "email", text_field="description"),
            R("invoices", (
                ref("customer", "cus_NffrFeUfNV2Hib"), i("amount_due", 120000, required=True),
                e("currency", ("usd", "eur", "gbp"), required=True),
                e("status", ("draft", "open", "paid", "uncollectible", "void"), default="draft"),
                date("due_date", "2025-04-30"), text("description", "March subscription", max_length=500),
            ), "description"),
            R("charges", (
                i("amount", 2000, required=True, minimum=50, maximum=99999999, description="smallest unit"),
                e("currency", ("usd", "eur", "gbp"), required=True), s("customer", "cus_NffrFeUfNV2Hib",
                                                                      max_length=64),
                text("description", "Order 1042", max_length=500),
                e("status", ("succeeded", "pending", "failed"), default="pending"), b("paid", False),
            ), "description"),
        )),
        Integration("quickbooks", "QuickBooks", finance, (
            R("invoices", (
                ref("customer_ref", "58"), n("total_amt", 1250.0, required=True), date("due_date", "2025-04-15"),
                title("doc_number", "INV-1042", faker=None, max_length=21), n("balance", 1250.0),
                e("email_status", ("NotSet", "NeedToSend", "EmailSent"), default="NotSet"),
                text("private_note", "Net 30", max_length=4000),
            ), "doc_number", text_field="private_note"),
            R("customers", (
                title("display_name", "Cool Cars Inc", faker="company", max_length=500),
                email("primary_email", "books@coolcars.test"), n("balance", 0.0),
                s("company_name", "Cool Cars Inc", faker="company"),
            ), "display_name"),
            R("payments", (
                ref("customer_ref", "58"), n("total_amt", 1250.0, required=True), date("txn_date", "2025-04-02"),
                e("payment_method", ("Check", "Cash", "CreditCard", "ACH"), default="ACH"),
                title("reference", "PMT-881", faker=None, required=False, max_length=21),
            ), "customer_ref"),
        )),
        Integration("xero", "Xero", finance, (
            R("invoices", (
                title("contact_name", "City Agency", faker="company"), e("type", ("ACCREC", "ACCPAY"), required=True),
                n("total", 880.0, required=True), s("currency_code", "NZD", faker="currency_code", max_length=3,
                                                    min_length=3),
                e("status", ("DRAFT", "SUBMITTED", "AUTHORISED", "PAID", "VOIDED"), default="DRAFT"),
                date("due_date", "2025-04-20"), s("reference", "Ref MK815", max_length=255),
            ), "contact_name", text_field="reference"),
            R("contacts", (
                title("name", "City Agency", faker="company"), email("email_address", "accounts@cityagency.test"),
                b("is_customer", True), b("is_supplier", False),
            ), "name"),
            R("payments", (
                ref("invoice_id", "fee88eea-f2aa-4a71-a372-33d6d83d3c45"), n("amount", 880.0, required=True),
                date("date", "2025-04-18", required=True), title("reference", "Bank transfer 0418", required=False),
            ), "invoice_id", text_field="reference"),
        )),
        Integration("mailchimp", "Mailchimp", marketing, (
            R("campaigns", (
                title("subject_line", "Spring product update", max_length=150),
                e("type", ("regular", "plaintext", "absplit", "rss"), required=True), ref("list_id", "57afe96172"),
                s("from_name", "ATOM Team", faker="company", max_length=100),
                e("status", ("save", "paused", "schedule", "sending", "sent"), default="save"),
                dt("send_time", "2025-03-20T14:00:00Z"),
            ), "subject_line"),
            R("lists", (
                title("name", "Newsletter subscribers"),
                text("permission_reminder", "You signed up on our website", required=True, min_length=1,
                     max_length=500),
                email("from_email", "news@atom.test"), i("member_count", 15230),
            ), "name"),
            R("members", (
                email("email_address", "pat@subscriber.test", required=True),
                e("status", ("subscribed", "unsubscribed", "cleaned", "pending"), required=True),
                ref("list_id", "57afe96172"), title("full_name", "Pat Doe", required=False, faker="name"),
            ), "email_address"),
        )),
        Integration("hubspot-marketing", "HubSpot Marketing", marketing, (
            R("emails", (
                title("name", "Webinar invite - March"), title("subject", "Join our live demo on March 12"),
                e("state", ("DRAFT", "SCHEDULED", "PUBLISHED"), default="DRAFT"),
                s("campaign_id", "8d9b1a2c", max_length=64), dt("send_at", "2025-03-05T15:00:00Z"),
            ), "name", text_field="subject"),
            R("campaigns", (
                title("name", "Q2 demand gen"), n("budget", 15000.0), date("start_date", "2025-04-01"),
                date("end_date", "2025-06-30"), e("status", ("planned", "in_progress", "completed"),
                                                  default="planned"),
            ), "name"),
            R("forms", (
                title("name", "Demo request"), s("submit_text", "Request demo", max_length=100),
                i("field_count", 5, maximum=100), url("redirect_url", "https://atom.example.test/thanks"),
            ), "name"),
        )),
        Integration("tableau", "Tableau", analytics, (
            R("dashboards", (
                title("name", "Executive KPIs"), ref("workbook_id", "3cc6cd06-89ce-4fdc-b935-5294135d6d42"),
                s("view_url_name", "ExecutiveKPIs", max_length=255),
                e("sheet_type", ("dashboard", "story", "worksheet"), default="dashboard"),
                email("owner", "analyst@acme.test"), text("description", "Revenue, churn, NPS", max_length=2000),
            ), "name", text_field="description"),
            R("workbooks", (
                title("name", "Sales 2025"), title("project_name", "Finance", faker="bs"), b("show_tabs", True),
                i("size", 3, description="megabytes"),
            ), "name"),
            R("data_sources", (
                title("name", "warehouse.sales"), e("type", ("postgres", "snowflake", "bigquery", "excel", "hyper"),
                                                    required=True),
                b("has_extracts", False),
            ), "name"),
        )),
        Integration("google-analytics", "Google Analytics", analytics, (
            R("reports", (
                title("name", "Weekly acquisition"), s("property_id", "properties/123456789", required=True,
                                                       pattern="^properties/[0-9]{6,12}$", max_length=32),
                date("date_range_start", "2025-03-01", required=True), date("date_range_end", "2025-03-07",
                                                                          required=True),
                tags("metrics", ["sessions", "activeUsers"]), tags("dimensions", ["sessionSource"]),
            ), "name"),
            R("properties", (
                title("display_name", "atom.example.test"), s("time_zone", "Europe/Berlin", required=True,
                                                              faker="timezone", max_length=64),
                s("currency_code", "EUR", faker="currency_code", max_length=3, min_length=3),
                e("industry_category", ("TECHNOLOGY", "FINANCE", "RETAIL", "OTHER")),
            ), "display_name", singular="property"),
            R("audiences", (
                title("display_name", "Returning buyers"), text("description", "Bought twice in 90 days"),
                i("membership_duration_days", 30, minimum=1, maximum=540),
            ), "display_name"),
        )),
        Integration("figma", "Figma", design, (
            R("files", (
                title("name", "Checkout redesign"), s("project_id", "14203", max_length=32),
                url("thumbnail_url", "https://figma.example.test/thumb/abc.png"),
                e("editor_type", ("figma", "figjam"), default="figma"), s("version", "4012345678", max_length=32),
            ), "name"),
            R("comments", (
                ref("file_key", "hK4tX0Kd9YwrmLcB1Jm3Hn"),
                text("message", "Can we make the CTA larger?", required=True, min_length=1),
                b("resolved", False),
            ), "message"),
            R("projects", (
                title("name", "Design system"), s("team_id", "1180045", max_length=32),
            ), "name"),
        )),
        Integration("shopify", "Shopify", design, (
            R("orders", (
                email("email", "buyer@shop.test", required=True), n("total_price", 129.9, required=True),
                s("currency", "USD", faker="currency_code", max_length=3, min_length=3),
                e("financial_status", ("pending", "authorized", "paid", "refunded", "voided"), default="pending"),
                e("fulfillment_status", ("unfulfilled", "partial", "fulfilled"), default="unfulfilled"),
                text("note", "Gift wrap please", max_length=5000),
            ), "email", text_field="note"),
            R("products", (
                title("title", "Merino wool sweater"), s("vendor", "Northwind", faker="company"),
                s("product_type", "Apparel", max_length=255),
                e("status", ("active", "draft", "archived"), default="draft"),
                n("price", 89.0), s("sku", "MW-SWT-042", max_length=64), i("inventory_quantity", 140),
            ), "title"),
            R("customers", (
                email("email", "buyer@shop.test", required=True), s("first_name", "Alex", faker="first_name"),
                title("last_name", "Kim", required=False, faker="last_name"), i("orders_count", 3),
                b("accepts_marketing", False),
            ), "email"),
        )),
    )


# The platform's own resources (not an integration): tasks and workflows under /api/v1.
TASKS = Resource("tasks", (
    title("title", "Review Q3 vendor contracts"), text("description", "Check renewal dates and owners"),
    e("status", ("todo", "in_progress", "done"), default="todo"),
    e("priority", ("medium", "low", "high", "urgent"), default="medium"),
    date("due_date", "2025-04-01"), email("assignee", "alice@acme.test"),
    tags("tags", ["legal", "q3"]),
), "title", text_field="description")

WORKFLOW_STEP: dict[str, Any] = {
    "type": "object",
    "required": ["integration", "action"],
    "additionalProperties": False,
    "properties": {
        "integration": {"type": "string", "enum": sorted(INTEGRATIONS)},
        "action": {"type": "string", "enum": ["create", "notify", "sync"]},
    },
}
WORKFLOWS = Resource("workflows", (
    title("name", "New Jira bug -> Slack alert"), text("description", "Posts every new bug to #eng-alerts"),
    e("trigger", ("manual", "schedule", "webhook", "event"), required=True),
    s("schedule", "0 9 * * 1-5", max_length=100, description="cron expression, for trigger=schedule"),
    Field("steps", "array", [{"integration": "jira", "action": "create"}, {"integration": "slack",
                                                                            "action": "notify"}],
          required=True, items=WORKFLOW_STEP),
    b("enabled", True, default=True),
), "name", syncable=False)

PLATFORM_RESOURCES: dict[str, Resource] = {TASKS.name: TASKS, WORKFLOWS.name: WORKFLOWS}

MODEL: dict[str, Integration] = {integration.slug: integration for integration in _model()}

if list(MODEL) != list(INTEGRATIONS) or any(MODEL[k].display_name != v for k, v in INTEGRATIONS.items()):
    raise RuntimeError("integrations: the resource model and INTEGRATIONS disagree")
