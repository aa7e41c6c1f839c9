#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "dialogs/catalogue.hpp"
#include "dialogs/message.hpp"
#include "dialogs/programme.hpp"
#include "dialogs/validate.hpp"

namespace duijie::dialogs {

/// What the engine may ask the store while deciding (read-only, answered inside the same
/// transaction by the runner; tests answer from memory).
class Facts {
 public:
  virtual ~Facts() = default;
  /// Whether an enterprise with this credit code is registered already.
  [[nodiscard]] virtual bool CreditCodeTaken(std::string_view code) const = 0;
  /// The person's needs, one line each (title and status), for "我的需求".
  [[nodiscard]] virtual std::vector<std::string> NeedSummaries() const = 0;
  /// Whether the person is the contact of a registered enterprise (needs are posted for one).
  [[nodiscard]] virtual bool HasEnterprise() const = 0;
  /// The person's oldest need returned for changes: its id, its values as the need form holds
  /// them, and the fields the reviewer flagged.
  struct ReturnedNeed {
    std::int64_t id = 0;
    nlohmann::json values;
    std::vector<std::string> fields;
  };
  [[nodiscard]] virtual std::optional<ReturnedNeed> Returned() const = 0;
  /// Published needs the matcher recommends to the person, best first, for "推荐需求": the
  /// title, the phrases that matched and the shared field id. nullopt when the person is not a
  /// registered researcher.
  struct Recommendation {
    std::string title;
    std::vector<std::string> terms;
    std::string field;
  };
  [[nodiscard]] virtual std::optional<std::vector<Recommendation>> Recommendations() const = 0;
  /// Staff on WeCom (a member of the operator's corp holding a live staff token): whether the
  /// person is one who may send broadcasts, the audiences they may pick (saved ones and the
  /// programme's stages, held to a bureau reviewer's region), the templates they may pick
  /// (those needing no variable but {name}), what a broadcast of these form values would reach
  /// (count and a sample) or why it cannot go, and their latest broadcasts with progress.
  [[nodiscard]] virtual bool IsStaff() const { return false; }
  [[nodiscard]] virtual std::vector<Choice> StaffAudiences() const { return {}; }
  [[nodiscard]] virtual std::vector<Choice> StaffTemplates() const { return {}; }
  [[nodiscard]] virtual std::string BroadcastPreview(const nlohmann::json& /*values*/) const { return {}; }
  [[nodiscard]] virtual std::vector<std::string> StaffBroadcasts() const { return {}; }
  /// The enterprise contact's chosen researchers not yet under contract (选定, talks module), for
  /// recording a contract: id = the push id, name = researcher, unit and need.
  [[nodiscard]] virtual std::vector<Choice> ChosenResearchers() const { return {}; }
  /// Contracts the person's enterprise holds (not refused): with a researcher from the same unit
  /// as push `push_id`'s researcher, and with programme funding.
  [[nodiscard]] virtual int ContractsWithUnitOf(std::string_view /*push_id*/) const { return 0; }
  [[nodiscard]] virtual int FundedContracts() const { return 0; }
  /// The enterprise contact's recorded contracts still open (no report filed): id = contract id,
  /// name = researcher, need and amount.
  [[nodiscard]] virtual std::vector<Choice> OpenContracts() const { return {}; }
  /// Whether the person already holds this identity verified (a mobile confirmed before).
  [[nodiscard]] virtual bool OwnsVerified(std::string_view /*kind*/, std::string_view /*address*/) const {
    return false;
  }
};

/// Everything a turn depends on besides the state and the event: no I/O, no global clock.
struct TurnContext {
  const Programme& programme;
  const Catalogue& catalogue;
  const Facts& facts;
  Clock::TimePoint now;
  Date today;
  std::string locale = std::string(Catalogue::kDefaultLocale);
  std::chrono::hours resume_after{24};       // an open form older than this asks "继续填写？"
  std::chrono::hours form_expires{24 * 30};  // an open form older than this is dropped
  std::string channel;                       // where the person writes from ('sms' proves a mobile)
  std::string sender;                        // their address on it
  Random* random = nullptr;                  // verification codes; required by forms that verify
};

/// How a mobile given in a form is proved: a 6-digit code by SMS, valid 5 minutes, 5 tries, a
/// new one at most once a minute. An email address is proved the same way by mail, the code
/// valid 15 minutes (mail is slower to arrive and to be read).
inline constexpr std::chrono::minutes kCodeValidity{5};
inline constexpr std::chrono::minutes kEmailCodeValidity{15};
inline constexpr int kCodeTries = 5;
inline constexpr std::chrono::seconds kCodeResendAfter{60};

/// A change the runner applies in the transaction of the inbound message.
struct Effect {
  std::string kind;  // 'register_enterprise', 'register_researcher', 'submit_need', ...
  nlohmann::json data;
};

/// The outcome of one inbound event: the state to save, what to answer, what to store.
struct Turn {
  nlohmann::json state;
  std::vector<std::string> replies;
  std::vector<Effect> effects;
};

/// One field of a form.
struct FieldSpec {
  std::string name;
  std::string prompt;  // catalogue key of the question
  std::string help;    // catalogue key of the longer explanation (帮助, third failure)
  bool optional = false;
  /// The answer is a file the person sends (WeCom file or image, a mail attachment); its value is
  /// {"ref": media id or SHA-256, "channel": ...}. Text is given to `parse` (to say a file is needed).
  bool file = false;
  std::function<Parsed(std::string_view, const TurnContext&)> parse;
  /// How a stored value reads in a summary (choice ids become names); the value as text if empty.
  std::function<std::string(const nlohmann::json&, const TurnContext&)> show;
  /// The options a choice question lists under the prompt, numbered.
  std::function<std::vector<Choice>(const TurnContext&)> options;
  /// A check against the store after parsing (e.g. a credit code already registered).
  std::function<std::optional<Parsed>(const nlohmann::json&, const TurnContext&)> check;
  /// A check against the other values of the form (a funding no larger than the contract).
  std::function<std::optional<Parsed>(const nlohmann::json& value, const nlohmann::json& values, const TurnContext&)>
      cross_check;
  /// The identity kind of an address the person must prove with a code before the form goes on:
  /// "mobile" (a code by SMS, unless they write from that number) or "email" (a code by mail);
  /// none if empty. An address they hold verified already needs no code.
  std::string verify;
};

/// A form: fields asked in order, a preview to confirm, and the effect of finishing it.
struct FormSpec {
  std::string id;     // 'enterprise_registration', ...
  std::string title;  // catalogue key of its name ("企业注册")
  std::vector<FieldSpec> fields;
  std::string done;  // catalogue key of the final answer; none if empty (the effect answers)
  std::string effect;
  /// Shown under the summary before "确认" (what a broadcast would reach); none if empty.
  std::function<std::string(const nlohmann::json& values, const TurnContext&)> preview;
};

/// The conversation engine (Rasa-style forms and more): a pure transition
/// (state, event) → (next state, replies, effects). At every question a person may say
/// 帮助/help, 取消/cancel, 返回/back, 跳过/skip (optional fields), 菜单/menu, 状态/status, or ask
/// something else the bot knows ("我的需求") and come back to the same question; an invalid
/// answer is re-asked saying what is wrong with an example, and the third failure in a row shows
/// the field's help. A form left for `resume_after` resumes with a summary and "继续填写？"; one
/// left for `form_expires` is dropped. The state is plain JSON, saved per person, so a form
/// started on one channel continues on another.
class Engine {
 public:
  explicit Engine(std::vector<FormSpec> forms);
  /// The engine with duijie's forms (registration, needs).
  static const Engine& Standard();

  [[nodiscard]] Turn Handle(const nlohmann::json& state, const InboundEvent& event, const TurnContext& ctx) const;

  /// Whether `text` means something to the engine outside a form: 帮助, 菜单, 状态, a top-level
  /// intent (我的需求, 发布需求 …) or a language switch. A relayed talk leaves these to the engine
  /// and carries everything else.
  [[nodiscard]] bool Understands(const std::string& text) const;

  /// Opens form `form_id` as if the person had asked for it, with `preset` values that are not
  /// asked (what a card's button already said: which need, which decision); they reach the start
  /// text, the preview and the effect. A person in the middle of another form is told to finish
  /// or cancel it first and asked its open question again; that form is kept as it was.
  [[nodiscard]] Turn Begin(const nlohmann::json& state, std::string_view form_id, const nlohmann::json& preset,
                           const TurnContext& ctx) const;

 private:
  // Handle for a state of the expected shape; throws nlohmann::json::exception for one that is not.
  [[nodiscard]] Turn HandleState(const nlohmann::json& state, const InboundEvent& event, const TurnContext& ctx) const;
  [[nodiscard]] Turn Reset(const InboundEvent& event, const TurnContext& ctx) const;
  const FormSpec* Find(std::string_view id) const;
  void Ask(const FormSpec& form, nlohmann::json& state, Turn& turn, const TurnContext& ctx) const;
  void AskConfirm(const FormSpec& form, nlohmann::json& state, Turn& turn, const TurnContext& ctx) const;
  void Answer(const FormSpec& form, const std::string& text, nlohmann::json& state, Turn& turn,
              const TurnContext& ctx) const;
  // A valid value for the open field: stored, then the next question (or the preview).
  void Accept(const FormSpec& form, const nlohmann::json& value, nlohmann::json& state, Turn& turn,
              const TurnContext& ctx) const;
  // The person's answer while a verification code is awaited.
  void Verify(const FormSpec& form, const std::string& text, nlohmann::json& state, Turn& turn,
              const TurnContext& ctx) const;
  void SendCode(const std::string& kind, const std::string& address, nlohmann::json& state, Turn& turn,
                const TurnContext& ctx) const;
  void Confirm(const FormSpec& form, const std::string& text, nlohmann::json& state, Turn& turn,
               const TurnContext& ctx) const;
  void Start(const FormSpec& form, nlohmann::json& state, Turn& turn, const TurnContext& ctx,
             const nlohmann::json& preset = nlohmann::json::object()) const;
  [[nodiscard]] std::string Summary(const FormSpec& form, const nlohmann::json& state, const TurnContext& ctx) const;
  [[nodiscard]] bool Idle(const nlohmann::json& state) const;
  // Top-level intents (no form open, or an interruption); true if the text was one.
  bool Intent(const std::string& text, nlohmann::json& state, Turn& turn, const TurnContext& ctx,
              bool interrupting) const;

  std::vector<FormSpec> forms_;
};

}  // namespace duijie::dialogs
