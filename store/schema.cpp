#include "store/schema.hpp"

#include <array>
#include <cctype>
#include <string>
#include <vector>

#include <SQLiteCpp/Statement.h>

#include "store/connection.hpp"

namespace duijie::store {
namespace {

// Timestamps are integer milliseconds since the Unix epoch (UTC). Statuses are TEXT with CHECK
// constraints so a report can read them without a lookup table and a typo cannot be stored.
// Every state change of a need, push, person or contract is also written to `transitions`
// (who, when, channel, why): reports and reminders read those records, never a guess.

constexpr std::string_view kDomain = R"sql(
CREATE TABLE programmes (
  id            INTEGER PRIMARY KEY,
  code          TEXT NOT NULL UNIQUE,          -- e.g. 'hubei-2020', 'jilin-kechuang'
  name          TEXT NOT NULL,
  definition    TEXT NOT NULL,                 -- the programme definition JSON (rules are data)
  active        INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
  created_at    INTEGER NOT NULL
);

CREATE TABLE people (
  id            INTEGER PRIMARY KEY,
  display_name  TEXT,
  role          TEXT NOT NULL CHECK (role IN ('enterprise_contact', 'researcher', 'staff', 'unknown')),
  status        TEXT NOT NULL DEFAULT 'onboarding'
                CHECK (status IN ('onboarding', 'pending', 'verified', 'refused')),
  locale        TEXT NOT NULL DEFAULT 'zh-CN',
  preferred_channel TEXT CHECK (preferred_channel IN ('wecom', 'sms', 'email')),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

-- A person reaches duijie through several identities; each is verified on its own.
CREATE TABLE identities (
  id            INTEGER PRIMARY KEY,
  person_id     INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  kind          TEXT NOT NULL CHECK (kind IN ('wecom_userid', 'wecom_external', 'mobile', 'email')),
  address       TEXT NOT NULL,                 -- userid, E.164 mobile, lower-case email
  status        TEXT NOT NULL DEFAULT 'unverified' CHECK (status IN ('unverified', 'verified')),
  verified_at   INTEGER,
  created_at    INTEGER NOT NULL,
  UNIQUE (kind, address)
);
CREATE INDEX identities_person ON identities(person_id);

CREATE TABLE channel_consents (
  person_id     INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
  channel       TEXT NOT NULL CHECK (channel IN ('wecom', 'sms', 'email')),
  state         TEXT NOT NULL CHECK (state IN ('subscribed', 'opted_out')),
  changed_at    INTEGER NOT NULL,
  source        TEXT,                          -- e.g. 'sms:TD', 'email:list-unsubscribe'
  PRIMARY KEY (person_id, channel)
);

-- Universities, institutes and other 派出单位 of researchers; also the other party of contracts.
CREATE TABLE units (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  kind          TEXT NOT NULL CHECK (kind IN ('university', 'institute', 'lab', 'new_rd_institution', 'other')),
  region        TEXT,
  admin_person_id INTEGER REFERENCES people(id),
  created_at    INTEGER NOT NULL
);

CREATE TABLE enterprises (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL,
  credit_code   TEXT NOT NULL UNIQUE,          -- 统一社会信用代码, 18 characters
  region        TEXT NOT NULL,
  industry      TEXT NOT NULL,
  sme_number    TEXT,                          -- 国家科技型中小企业库 入库编号
  contact_person_id INTEGER NOT NULL REFERENCES people(id),
  status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified', 'refused')),
  programme_id  INTEGER REFERENCES programmes(id),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

CREATE TABLE researchers (
  person_id     INTEGER PRIMARY KEY REFERENCES people(id) ON DELETE CASCADE,
  unit_id       INTEGER REFERENCES units(id),
  title         TEXT,
  eligibility   TEXT NOT NULL,                 -- a type from the programme definition
  fields        TEXT NOT NULL DEFAULT '[]',    -- JSON array, 1-3 fields
  keywords      TEXT NOT NULL DEFAULT '[]',    -- JSON array
  bio           TEXT NOT NULL DEFAULT '',
  region        TEXT,
  capacity      INTEGER NOT NULL DEFAULT 1 CHECK (capacity >= 0),
  status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified', 'refused')),
  programme_id  INTEGER REFERENCES programmes(id),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

CREATE TABLE needs (
  id            INTEGER PRIMARY KEY,
  enterprise_id INTEGER NOT NULL REFERENCES enterprises(id),
  programme_id  INTEGER NOT NULL REFERENCES programmes(id),
  title         TEXT NOT NULL,
  problem       TEXT NOT NULL DEFAULT '',
  targets       TEXT NOT NULL DEFAULT '',
  constraints_text TEXT NOT NULL DEFAULT '',
  category      TEXT,
  field         TEXT,
  amount_wan    REAL,                          -- intended amount in 万元
  deadline      TEXT,                          -- ISO date
  stage         TEXT NOT NULL DEFAULT 'draft' CHECK (stage IN (
                  'draft', 'submitted', 'recommended', 'published', 'returned', 'rejected',
                  'matching', 'proposals', 'shortlisted', 'in_talks', 'contracted', 'evidenced',
                  'reported', 'evaluated', 'withdrawn', 'expired')),
  returned_fields TEXT,                        -- JSON array of fields a reviewer flagged
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
CREATE INDEX needs_stage ON needs(stage);
CREATE INDEX needs_enterprise ON needs(enterprise_id);

CREATE TABLE need_reviews (
  id            INTEGER PRIMARY KEY,
  need_id       INTEGER NOT NULL REFERENCES needs(id),
  level         TEXT NOT NULL CHECK (level IN ('bureau', 'platform')),
  decision      TEXT NOT NULL CHECK (decision IN ('recommend', 'approve', 'return', 'reject')),
  reason        TEXT,
  reviewer_person_id INTEGER REFERENCES people(id),
  created_at    INTEGER NOT NULL,
  CHECK (decision IN ('recommend', 'approve') OR (reason IS NOT NULL AND length(reason) > 0))
);
CREATE INDEX need_reviews_need ON need_reviews(need_id);

-- One need pushed to one researcher, and everything that follows from it.
CREATE TABLE pushes (
  id            INTEGER PRIMARY KEY,
  need_id       INTEGER NOT NULL REFERENCES needs(id),
  researcher_person_id INTEGER NOT NULL REFERENCES people(id),
  score         REAL,
  explanation   TEXT,
  reply_code    TEXT,                          -- short code in an SMS push ("回复1 A7K")
  status        TEXT NOT NULL DEFAULT 'planned' CHECK (status IN (
                  'planned', 'sent', 'interested', 'declined', 'unanswered', 'closed',
                  'shortlisted', 'talking', 'chosen', 'not_chosen')),
  decline_reason TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  UNIQUE (need_id, researcher_person_id)
);
CREATE INDEX pushes_researcher ON pushes(researcher_person_id, status);

CREATE TABLE proposals (
  id            INTEGER PRIMARY KEY,
  push_id       INTEGER NOT NULL REFERENCES pushes(id),
  body          TEXT NOT NULL,
  channel       TEXT NOT NULL,
  created_at    INTEGER NOT NULL
);

CREATE TABLE contracts (
  id            INTEGER PRIMARY KEY,
  need_id       INTEGER NOT NULL REFERENCES needs(id),
  researcher_person_id INTEGER NOT NULL REFERENCES people(id),
  unit_id       INTEGER NOT NULL REFERENCES units(id),
  contract_type TEXT NOT NULL CHECK (contract_type IN ('development', 'transfer', 'licensing', 'consulting', 'service')),
  amount_wan    REAL NOT NULL CHECK (amount_wan > 0),
  funding_wan   REAL,
  signed_on     TEXT NOT NULL,
  status        TEXT NOT NULL DEFAULT 'recorded' CHECK (status IN ('recorded', 'evidenced', 'verified', 'refused')),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

CREATE TABLE documents (
  id            INTEGER PRIMARY KEY,
  owner_person_id INTEGER REFERENCES people(id),
  need_id       INTEGER REFERENCES needs(id),
  contract_id   INTEGER REFERENCES contracts(id),
  kind          TEXT NOT NULL CHECK (kind IN ('contract', 'invoice', 'payment_proof', 'report', 'other')),
  file_name     TEXT NOT NULL,
  media_type    TEXT NOT NULL,
  size_bytes    INTEGER NOT NULL CHECK (size_bytes >= 0),
  sha256        TEXT NOT NULL,
  storage_path  TEXT NOT NULL,
  source_channel TEXT,
  status        TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'verified', 'refused')),
  created_at    INTEGER NOT NULL
);
CREATE INDEX documents_sha ON documents(sha256);

-- A conversation is per person; its state (the open form, the field being asked) is the
-- dialog engine's JSON, so a form started on WeCom can continue by SMS.
CREATE TABLE conversations (
  id            INTEGER PRIMARY KEY,
  person_id     INTEGER NOT NULL UNIQUE REFERENCES people(id) ON DELETE CASCADE,
  flow          TEXT,
  state         TEXT NOT NULL DEFAULT '{}',
  last_channel  TEXT,
  updated_at    INTEGER NOT NULL
);

-- Relay between an enterprise and a researcher during detail talks.
CREATE TABLE relay_messages (
  id            INTEGER PRIMARY KEY,
  push_id       INTEGER NOT NULL REFERENCES pushes(id),
  from_person_id INTEGER NOT NULL REFERENCES people(id),
  body          TEXT NOT NULL,
  channel       TEXT NOT NULL,
  created_at    INTEGER NOT NULL
);

CREATE TABLE broadcasts (
  id            INTEGER PRIMARY KEY,
  idempotency_key TEXT UNIQUE,
  title         TEXT NOT NULL,
  audience      TEXT NOT NULL,                 -- JSON filter
  template      TEXT NOT NULL,                 -- JSON per-channel template
  scheduled_at  INTEGER,
  status        TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'scheduled', 'sending', 'done', 'cancelled')),
  created_by_person_id INTEGER REFERENCES people(id),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);

CREATE TABLE broadcast_recipients (
  broadcast_id  INTEGER NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
  person_id     INTEGER NOT NULL REFERENCES people(id),
  status        TEXT NOT NULL DEFAULT 'queued' CHECK (status IN (
                  'queued', 'sent', 'delivered', 'failed', 'acknowledged', 'opted_out', 'cancelled')),
  channel       TEXT,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (broadcast_id, person_id)
);

CREATE TABLE api_tokens (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL,
  token_sha256  TEXT NOT NULL UNIQUE,          -- only the hash is stored
  role          TEXT NOT NULL CHECK (role IN ('admin', 'platform_reviewer', 'bureau_reviewer', 'viewer')),
  region        TEXT,                          -- scope of a bureau reviewer
  person_id     INTEGER REFERENCES people(id),
  created_at    INTEGER NOT NULL,
  revoked_at    INTEGER,
  last_used_at  INTEGER
);

-- Every transition of every lifecycle: the one source for histories, reports and reminders.
CREATE TABLE transitions (
  id            INTEGER PRIMARY KEY,
  entity        TEXT NOT NULL CHECK (entity IN ('need', 'push', 'person', 'identity', 'contract', 'document', 'broadcast')),
  entity_id     INTEGER NOT NULL,
  from_state    TEXT,
  to_state      TEXT NOT NULL,
  actor_person_id INTEGER REFERENCES people(id),
  channel       TEXT,                          -- 'wecom', 'sms', 'email', 'api', 'cli', 'system'
  reason        TEXT,
  at            INTEGER NOT NULL
);
CREATE INDEX transitions_entity ON transitions(entity, entity_id, at);

-- Staff actions (who did what through the admin API or CLI).
CREATE TABLE audit_log (
  id            INTEGER PRIMARY KEY,
  actor         TEXT NOT NULL,                 -- token name or person
  action        TEXT NOT NULL,
  target        TEXT,
  detail        TEXT,                          -- JSON
  at            INTEGER NOT NULL
);
)sql";

// The ledger: exactly-once inbound, at-most-once per attempt outbound (DESIGN.md "path of a
// message").
constexpr std::string_view kLedger = R"sql(
CREATE TABLE inbox (
  id            INTEGER PRIMARY KEY,
  channel       TEXT NOT NULL,
  provider_key  TEXT NOT NULL,                 -- MsgId, composite event key, provider message id
  sender        TEXT,
  person_id     INTEGER REFERENCES people(id),
  payload       TEXT NOT NULL,                 -- the neutral event as JSON, never raw ciphertext
  status        TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'ignored', 'failed')),
  reply_status  INTEGER,                       -- the HTTP answer given, replayed to a redelivery
  reply_type    TEXT,
  reply_body    BLOB,
  deliveries    INTEGER NOT NULL DEFAULT 1,    -- how often the provider delivered it
  received_at   INTEGER NOT NULL,
  processed_at  INTEGER,
  UNIQUE (channel, provider_key)
);

CREATE TABLE outbox (
  id            INTEGER PRIMARY KEY,
  idempotency_key TEXT NOT NULL UNIQUE,
  channel       TEXT NOT NULL,
  recipient     TEXT NOT NULL,                 -- channel address
  person_id     INTEGER REFERENCES people(id),
  kind          TEXT NOT NULL,                 -- 'reply', 'match_push', 'reminder', 'verification_code', ...
  payload       TEXT NOT NULL,                 -- the neutral outbound message as JSON
  status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN (
                  'pending',   -- due at next_attempt_at (first try or retry)
                  'sending',   -- claimed by a dispatcher; outcome not yet recorded
                  'unknown',   -- the outcome of the last attempt is not known; checked before resending
                  'sent',      -- accepted by the provider
                  'sandbox',   -- recorded, never sent (channel without credentials)
                  'delivered', -- provider confirmed delivery
                  'failed',    -- final failure
                  'dead',      -- retries exhausted
                  'cancelled')),
  priority      INTEGER NOT NULL DEFAULT 0,
  attempts      INTEGER NOT NULL DEFAULT 0,
  max_attempts  INTEGER NOT NULL DEFAULT 8 CHECK (max_attempts > 0),
  next_attempt_at INTEGER NOT NULL,
  claimed_by    TEXT,
  claimed_at    INTEGER,
  provider_ref  TEXT,
  last_error    TEXT,
  inbox_id      INTEGER REFERENCES inbox(id),
  broadcast_id  INTEGER REFERENCES broadcasts(id),
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL,
  finished_at   INTEGER
);
CREATE INDEX outbox_due ON outbox(channel, priority DESC, next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_unknown ON outbox(next_attempt_at) WHERE status = 'unknown';
CREATE INDEX outbox_claimed ON outbox(claimed_by) WHERE status = 'sending';
CREATE INDEX outbox_status ON outbox(status);

CREATE TABLE outbox_attempts (
  id            INTEGER PRIMARY KEY,
  outbox_id     INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,
  attempt       INTEGER NOT NULL,
  sender        TEXT,                          -- which sender handled it (e.g. 'sandbox', 'tencent')
  outcome       TEXT NOT NULL CHECK (outcome IN (
                  'in_flight', 'sent', 'sandbox', 'retryable', 'failed', 'unknown',
                  'recovered_sent', 'recovered_lost')),
  error         TEXT,
  provider_ref  TEXT,
  started_at    INTEGER NOT NULL,
  finished_at   INTEGER,
  UNIQUE (outbox_id, attempt)
);

-- What the sandbox sender "sent". Deliberately not unique on the key: it is the observable side
-- effect, so a double send would show here.
CREATE TABLE sandbox_messages (
  id            INTEGER PRIMARY KEY,
  idempotency_key TEXT NOT NULL,
  channel       TEXT NOT NULL,
  recipient     TEXT NOT NULL,
  payload       TEXT NOT NULL,
  recorded_at   INTEGER NOT NULL
);
CREATE INDEX sandbox_messages_key ON sandbox_messages(idempotency_key);
)sql";

// What the channels need beyond the ledger: fallbacks, pull cursors, reply windows, files.
constexpr std::string_view kChannels = R"sql(
-- The addresses to try next, in order, when this message fails for good:
-- JSON [{"channel": "sms", "recipient": "+86..."}, ...] (DESIGN.md "fallback to the next channel").
ALTER TABLE outbox ADD COLUMN fallback TEXT;

-- Where a pull API (WeCom kf/sync_msg) stopped, per channel and account.
CREATE TABLE sync_cursors (
  channel       TEXT NOT NULL,
  scope         TEXT NOT NULL,
  cursor        TEXT NOT NULL,
  updated_at    INTEGER NOT NULL,
  PRIMARY KEY (channel, scope)
) WITHOUT ROWID;

-- Channels that may only answer for a while after the person wrote (WeCom kf: 48 h, 5 messages
-- per message received): when the window opened and how much of it is used.
CREATE TABLE reply_windows (
  channel       TEXT NOT NULL,
  address       TEXT NOT NULL,
  opened_at     INTEGER NOT NULL,
  sent          INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (channel, address)
) WITHOUT ROWID;

-- A file received in a conversation points at the inbox row it came with.
ALTER TABLE documents ADD COLUMN inbox_id INTEGER REFERENCES inbox(id);
CREATE INDEX documents_inbox ON documents(inbox_id);
)sql";

// SMS rules: opt-outs by address (a number may opt out before anyone knows whose it is),
// per-number caps counted from the outbox, and receipts found by the provider's message id.
constexpr std::string_view kSms = R"sql(
CREATE TABLE suppressions (
  channel       TEXT NOT NULL,
  address       TEXT NOT NULL,                 -- E.164 mobile, lower-case email
  reason        TEXT NOT NULL,                 -- 'opt_out', 'blacklist', ...
  source        TEXT,                          -- e.g. 'sms:TD via tencent'
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (channel, address)
) WITHOUT ROWID;

CREATE INDEX outbox_recipient ON outbox(channel, recipient, updated_at);
CREATE INDEX outbox_provider_ref ON outbox(provider_ref) WHERE provider_ref IS NOT NULL;
)sql";

// Email: secrets the gateway makes for itself when the operator sets none (the key of reply
// tokens must outlive a restart, or every reply in flight would lose its thread).
constexpr std::string_view kEmail = R"sql(
CREATE TABLE local_secrets (
  name          TEXT PRIMARY KEY,
  value         TEXT NOT NULL,
  created_at    INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

// Match pushes (issue 7): a need is planned once (its round), each push remembers the channel
// it went out on and when the one reminder was sent; a push has at most one proposal, told to
// the enterprise once, in a digest.
constexpr std::string_view kPushes = R"sql(
CREATE TABLE push_rounds (
  need_id       INTEGER PRIMARY KEY REFERENCES needs(id),
  planned       INTEGER NOT NULL,               -- pushes created (0: nobody fitted)
  created_at    INTEGER NOT NULL
);
ALTER TABLE pushes ADD COLUMN channel TEXT;
ALTER TABLE pushes ADD COLUMN reminded_at INTEGER;
CREATE INDEX pushes_open ON pushes(status, updated_at);
ALTER TABLE proposals ADD COLUMN updated_at INTEGER;
ALTER TABLE proposals ADD COLUMN notified_at INTEGER;   -- told to the enterprise in a digest
CREATE UNIQUE INDEX proposals_push ON proposals(push_id);
)sql";

// Broadcasts and deadline reminders (issue 9): a broadcast remembers the request it was made
// from (an idempotency key repeated with another body is refused), whether it asks for an
// acknowledgement, and how far its planning got; each recipient remembers which of their
// addresses it is on, when the next one is due if nobody acknowledges, and why it stopped.
constexpr std::string_view kBroadcasts = R"sql(
ALTER TABLE broadcasts ADD COLUMN kind TEXT NOT NULL DEFAULT 'manual'
  CHECK (kind IN ('manual', 'milestone', 'escalation', 'stage_digest'));
ALTER TABLE broadcasts ADD COLUMN request_sha256 TEXT;
ALTER TABLE broadcasts ADD COLUMN ack_minutes INTEGER CHECK (ack_minutes IS NULL OR ack_minutes > 0);
ALTER TABLE broadcasts ADD COLUMN audience_size INTEGER;
ALTER TABLE broadcasts ADD COLUMN created_by TEXT;
ALTER TABLE broadcasts ADD COLUMN finished_at INTEGER;
CREATE INDEX broadcasts_status ON broadcasts(status, scheduled_at);

ALTER TABLE broadcast_recipients ADD COLUMN step INTEGER NOT NULL DEFAULT 0;  -- addresses used so far
ALTER TABLE broadcast_recipients ADD COLUMN addresses TEXT;                    -- JSON [[channel, address], ...]
ALTER TABLE broadcast_recipients ADD COLUMN vars TEXT;                         -- JSON variables of this person
ALTER TABLE broadcast_recipients ADD COLUMN reason TEXT;
ALTER TABLE broadcast_recipients ADD COLUMN next_at INTEGER;                  -- next address if no acknowledgement
ALTER TABLE broadcast_recipients ADD COLUMN acknowledged_at INTEGER;
CREATE INDEX broadcast_recipients_person ON broadcast_recipients(person_id, updated_at);
-- Planning takes the next batch of those still queued without walking past those done.
CREATE INDEX broadcast_recipients_status ON broadcast_recipients(broadcast_id, status, person_id);
CREATE INDEX broadcast_recipients_next ON broadcast_recipients(next_at) WHERE next_at IS NOT NULL;

CREATE INDEX outbox_broadcast ON outbox(broadcast_id, person_id) WHERE broadcast_id IS NOT NULL;
-- How many of a broadcast's messages are still on their way (its planning window, whether it is
-- done), without walking past the rest.
CREATE INDEX outbox_broadcast_waiting ON outbox(broadcast_id) WHERE status IN ('pending', 'sending', 'unknown');
CREATE INDEX broadcast_recipients_awaiting ON broadcast_recipients(broadcast_id) WHERE next_at IS NOT NULL;
-- When the dispatcher must look next (after every claim): without it, a walk over every waiting
-- message, which a large broadcast made the dispatcher's main cost.
CREATE INDEX outbox_next_due ON outbox(next_attempt_at) WHERE status IN ('pending', 'unknown');
CREATE INDEX enterprises_contact ON enterprises(contact_person_id);
CREATE INDEX people_role ON people(role, status);
CREATE INDEX researchers_unit ON researchers(unit_id);
CREATE INDEX pushes_need ON pushes(need_id, status);
CREATE INDEX contracts_need ON contracts(need_id);

-- Audiences staff saved by name, to reuse in broadcasts.
CREATE TABLE audiences (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  filter        TEXT NOT NULL,                 -- the audience filter JSON
  created_by    TEXT,
  created_at    INTEGER NOT NULL
);
)sql";

// Message templates staff keep for broadcasts (dialogs/templates): the checked JSON document.
constexpr std::string_view kTemplates = R"sql(
CREATE TABLE message_templates (
  id            INTEGER PRIMARY KEY,
  name          TEXT NOT NULL UNIQUE,
  body          TEXT NOT NULL,
  created_by    TEXT,
  updated_by    TEXT,
  created_at    INTEGER NOT NULL,
  updated_at    INTEGER NOT NULL
);
)sql";

// The enterprise's side of a match, detail talks and evidence (issue 7): a push's talk is open or ended,
// its last activity decides where a person's next free text goes, and each side's consent to
// exchange contact details is a bit (1 the enterprise, 2 the researcher).
constexpr std::string_view kTalks = R"sql(
ALTER TABLE pushes ADD COLUMN talk TEXT CHECK (talk IS NULL OR talk IN ('open', 'ended'));
ALTER TABLE pushes ADD COLUMN talk_at INTEGER;
ALTER TABLE pushes ADD COLUMN exchange INTEGER NOT NULL DEFAULT 0 CHECK (exchange BETWEEN 0 AND 3);
CREATE INDEX pushes_talk_open ON pushes(talk_at) WHERE talk = 'open';
CREATE INDEX relay_messages_push ON relay_messages(push_id, created_at);

-- What the enterprise sent for a contract (the contract, the invoice, the bank transfer proof,
-- the summary report): the file by reference (a WeCom media id, fetched and kept as a document
-- later, or a mail attachment's SHA-256), what the person said is on it, and what differs from
-- the recorded contract, for the staff who verify it.
CREATE TABLE evidence (
  id            INTEGER PRIMARY KEY,
  contract_id   INTEGER NOT NULL REFERENCES contracts(id),
  kind          TEXT NOT NULL CHECK (kind IN ('contract', 'invoice', 'payment_proof', 'report')),
  file_ref      TEXT NOT NULL,
  stated_amount_wan REAL,
  stated_date   TEXT,
  note          TEXT,                          -- the report's self-acceptance (自主验收)
  problems      TEXT NOT NULL DEFAULT '[]',    -- JSON list of what differs, in words
  status        TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'verified', 'refused')),
  person_id     INTEGER REFERENCES people(id),
  channel       TEXT,
  created_at    INTEGER NOT NULL
);
CREATE INDEX evidence_contract ON evidence(contract_id, kind);
CREATE INDEX evidence_file ON evidence(file_ref);
)sql";

// Several SMS pushes waiting for one number go out as one message (issue 5): the others end
// 'cancelled' and point at the message that carried them.
constexpr std::string_view kCoalescing = R"sql(
ALTER TABLE outbox ADD COLUMN merged_into INTEGER REFERENCES outbox(id);
CREATE INDEX outbox_merged ON outbox(merged_into) WHERE merged_into IS NOT NULL;
)sql";

// IN lists of three or more literals cost a temporary b-tree each time a statement evaluates them
// (see InListsToEqualities): the CHECK constraints, evaluated on every write of their column, and
// the partial index whose predicate is evaluated on every write of `status` say it with
// equalities instead. Same rules, same rows.
constexpr std::string_view kInLists = R"sql(
DROP INDEX outbox_broadcast_waiting;
CREATE INDEX outbox_broadcast_waiting ON outbox(broadcast_id)
  WHERE (status = 'pending' OR status = 'sending' OR status = 'unknown');
)sql";

// The dispatch path's writes (issues 5 and 9): every index whose key holds the recipient costs a
// page at a random place per message each time the key changes, and sending changed
// outbox_recipient's key twice (updated_at at the claim and at the outcome) and inserted a random
// provider reference into outbox_provider_ref once. outbox_recipient now ends with finished_at,
// which the outcome sets once; its NULL range is what is waiting or in flight for a recipient,
// which is what coalescing and the SMS caps look for. Receipts are found through it by the number
// they carry and the reference, among the recent messages (OutboxRepository::RecordDelivery).
constexpr std::string_view kSendTimes = R"sql(
DROP INDEX outbox_recipient;
CREATE INDEX outbox_recipient ON outbox(channel, recipient, finished_at);
DROP INDEX outbox_provider_ref;
)sql";

// SQLite cannot ALTER a CHECK constraint. Its documented way for a change that leaves the stored
// rows valid (lang_altertable.html, "Making Other Kinds Of Table Schema Changes") is to edit the
// table's CREATE statement in sqlite_schema and bump the schema version, inside the migration's
// transaction; the rewritten constraints accept exactly the values the old ones did.
void RewriteInListChecks(Connection& conn) {
  std::vector<std::pair<std::string, std::string>> changed;
  {
    SQLite::Statement q(conn.Db(),
                        "SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    while (q.executeStep()) {
      const std::string sql = q.getColumn(1).getString();
      auto rewritten = InListsToEqualities(sql);
      if (rewritten != sql) changed.emplace_back(q.getColumn(0).getString(), std::move(rewritten));
    }
  }
  if (changed.empty()) return;
  const int version = conn.Db().execAndGet("PRAGMA schema_version").getInt();
  conn.Exec("PRAGMA writable_schema = ON");
  for (const auto& [name, sql] : changed) {
    SQLite::Statement upd(conn.Db(), "UPDATE sqlite_schema SET sql = ? WHERE type = 'table' AND name = ?");
    upd.bind(1, sql);
    upd.bind(2, name);
    upd.exec();
  }
  conn.Exec("PRAGMA schema_version = " + std::to_string(version + 1));
  conn.Exec("PRAGMA writable_schema = RESET");  // off, and this connection reloads the schema
}

constexpr std::array<Migration, 12> kMigrations = {{
    {"domain", kDomain},
    {"ledger", kLedger},
    {"channels", kChannels},
    {"sms", kSms},
    {"email", kEmail},
    {"pushes", kPushes},
    {"broadcasts", kBroadcasts},
    {"templates", kTemplates},
    {"talks_and_evidence", kTalks},
    {"coalescing", kCoalescing},
    {"in_lists", kInLists, &RewriteInListChecks},
    {"send_times", kSendTimes},
}};

}  // namespace

std::span<const Migration> AllMigrations() { return kMigrations; }

namespace {

bool IsIdentStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool IsIdentChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// The end of the whitespace and comments starting at i.
std::size_t SkipGap(std::string_view s, std::size_t i) {
  for (;;) {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i])) != 0) ++i;
    if (s.substr(i, 2) == "--") {
      i = s.find('\n', i);
      if (i == std::string_view::npos) return s.size();
    } else if (s.substr(i, 2) == "/*") {
      i = s.find("*/", i + 2);
      if (i == std::string_view::npos) return s.size();
      i += 2;
    } else {
      return i;
    }
  }
}

// The end of the quoted token ('string', "identifier", `identifier`, [identifier]) at i.
std::size_t SkipQuoted(std::string_view s, std::size_t i) {
  const char close = s[i] == '[' ? ']' : s[i];
  for (std::size_t j = i + 1; j < s.size(); ++j) {
    if (s[j] != close) continue;
    if (close != ']' && j + 1 < s.size() && s[j + 1] == close) {
      ++j;  // a doubled quote stands for itself
      continue;
    }
    return j + 1;
  }
  return s.size();
}

// The end of a string or number literal at i, or i if there is none.
std::size_t SkipLiteral(std::string_view s, std::size_t i) {
  if (i >= s.size()) return i;
  if (s[i] == '\'') return SkipQuoted(s, i);
  std::size_t j = i;
  if (s[j] == '-' || s[j] == '+') ++j;
  const std::size_t digits = j;
  while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) != 0 || s[j] == '.')) ++j;
  return j > digits ? j : i;
}

bool KeywordAt(std::string_view s, std::size_t i, std::string_view word) {
  if (s.size() - i < word.size()) return false;
  for (std::size_t k = 0; k < word.size(); ++k) {
    if (std::toupper(static_cast<unsigned char>(s[i + k])) != word[k]) return false;
  }
  return i + word.size() == s.size() || !IsIdentChar(s[i + word.size()]);
}

}  // namespace

std::string InListsToEqualities(std::string_view sql) {
  std::string out;
  out.reserve(sql.size() + 256);
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (c == '\'' || c == '"' || c == '`' || c == '[') {
      const auto end = SkipQuoted(sql, i);
      out.append(sql.substr(i, end - i));
      i = end;
      continue;
    }
    if (sql.substr(i, 2) == "--" || sql.substr(i, 2) == "/*") {
      const auto end = SkipGap(sql, i);
      out.append(sql.substr(i, end - i));
      i = end;
      continue;
    }
    if (!IsIdentStart(c)) {
      out.push_back(c);
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < sql.size() && IsIdentChar(sql[end])) ++end;
    const std::string_view name = sql.substr(i, end - i);
    const bool qualified = i > 0 && sql[i - 1] == '.';
    // name IN ( literal , literal , ... )
    std::size_t j = SkipGap(sql, end);
    bool rewrite = !qualified && !KeywordAt(sql, i, "NOT") && KeywordAt(sql, j, "IN");
    std::string list;
    if (rewrite) {
      j = SkipGap(sql, j + 2);
      rewrite = j < sql.size() && sql[j] == '(';
    }
    if (rewrite) {
      list = "(";
      std::size_t k = j + 1;
      int items = 0;
      for (;;) {
        const auto lit = SkipGap(sql, k);
        list.append(sql.substr(k, lit - k));
        const auto lit_end = SkipLiteral(sql, lit);
        if (lit_end == lit) {
          rewrite = false;
          break;
        }
        list.append(name).append(" = ").append(sql.substr(lit, lit_end - lit));
        ++items;
        const auto sep = SkipGap(sql, lit_end);
        list.append(sql.substr(lit_end, sep - lit_end));
        if (sep < sql.size() && sql[sep] == ',') {
          list.append(" OR");
          k = sep + 1;
          continue;
        }
        rewrite = sep < sql.size() && sql[sep] == ')' && items > 2;
        list.push_back(')');
        j = sep + 1;
        break;
      }
    }
    if (rewrite) {
      out.append(list);
      i = j;
    } else {
      out.append(name);
      i = end;
    }
  }
  return out;
}

}  // namespace duijie::store
