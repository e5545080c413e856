#pragma once
// Every event type of domain.md 2.3: one struct per type, its public type string and entity
// kind, and one field table (schema<T>::fields) that decoding, validation and encoding share.
// C++ names are snake_case structs (change_approved); public names are strings
// ("change.approved"); the two are tied only here.

#include <array>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <variant>

namespace ledger::events {

enum class entity_kind { actor, change, route, agreement, window, key, incident, maintenance, service, report,
                         request, access, calendar };

[[nodiscard]] std::string_view to_string(entity_kind k) noexcept;
[[nodiscard]] std::optional<entity_kind> parse_entity_kind(std::string_view s) noexcept;

/// What a field's value must look like.
enum class value_format {
    text,         ///< non-empty string
    identifier,   ///< an id: no whitespace, no '/', at most 128 bytes
    reference,    ///< an id of `ref` kind, given bare ("W-2") or prefixed ("window/W-2")
    system,       ///< a system id, or "*" for all systems
    rfc3339,      ///< RFC 3339 with offset (a timestamp)
    date,         ///< YYYY-MM-DD
    month,        ///< YYYY-MM
    digest,       ///< "sha256:" + 64 hex digits
    fingerprint,  ///< "sha256:" + hex digits (of a key or certificate, never the secret)
    public_key,   ///< base64 of a 32-byte Ed25519 public key
    choice,       ///< one of `choices`
    percent,      ///< a number, 0 < x <= 100
    boolean,
    object,       ///< a nested object with its own schema
};

struct rule {
    value_format format = value_format::text;
    std::span<const std::string_view> choices{};
    entity_kind ref = entity_kind::actor;
};

constexpr rule text{value_format::text};
constexpr rule identifier{value_format::identifier};
constexpr rule system_id{value_format::system};
constexpr rule timestamp_rule{value_format::rfc3339};
constexpr rule date_rule{value_format::date};
constexpr rule month_rule{value_format::month};
constexpr rule digest{value_format::digest};
constexpr rule fingerprint{value_format::fingerprint};
constexpr rule public_key{value_format::public_key};
constexpr rule percent{value_format::percent};
constexpr rule boolean{value_format::boolean};
constexpr rule object{value_format::object};
constexpr rule one_of(std::span<const std::string_view> c) { return rule{value_format::choice, c}; }
constexpr rule reference_to(entity_kind k) { return rule{value_format::reference, {}, k}; }

/// One field of a struct S: its JSON name, the member it fills and the rule its value obeys.
/// A std::optional member is an optional field; any other member is required.
template <typename S, typename M>
struct field {
    std::string_view name;
    M S::*member;
    rule r;
};
#define LEDGER_FIELD(S, name, r) ::ledger::events::field<S, decltype(S::name)>{#name, &S::name, r}

/// schema<T> has `type` (public string), `kind` (entity kind), `fields` (a tuple of field) and
/// optionally `static std::optional<std::pair<std::string, std::string>> check(const T&)`
/// returning {field, problem} for rules that span fields.
template <typename T>
struct schema;

// ---- enumerations (domain.md 2.3) ----
inline constexpr std::array<std::string_view, 2> actor_kinds{"person", "system"};
inline constexpr std::array<std::string_view, 7> roles{"system_owner", "system_manager", "app_operator",
                                                       "infra_operator", "helpdesk", "signatory", "controller"};
inline constexpr std::array<std::string_view, 11> change_categories{
    "application_upgrade", "os_upgrade", "hardware_upgrade", "restore", "service_move", "tuning",
    "report_variant", "data_model", "customization", "patch", "other"};
inline constexpr std::array<std::string_view, 2> gates{"start", "production"};
inline constexpr std::array<std::string_view, 2> environments{"test", "production"};
inline constexpr std::array<std::string_view, 1> test_only{"test"};
inline constexpr std::array<std::string_view, 1> production_only{"production"};
inline constexpr std::array<std::string_view, 2> pass_fail{"passed", "failed"};
inline constexpr std::array<std::string_view, 3> close_outcomes{"completed", "rejected", "cancelled"};
inline constexpr std::array<std::string_view, 3> route_actions{"establish", "replace", "decommission"};
inline constexpr std::array<std::string_view, 2> transports{"webservice", "sftp"};
inline constexpr std::array<std::string_view, 2> addressings{"explicit", "implicit"};
inline constexpr std::array<std::string_view, 4> key_purposes{"seal", "certificate", "ssh", "signing"};
inline constexpr std::array<std::string_view, 4> rotation_reasons{"scheduled", "compromised", "seal_error", "expiry"};
inline constexpr std::array<std::string_view, 3> incident_categories{"A", "B", "C"};
inline constexpr std::array<std::string_view, 4> service_environments{"production", "development", "test", "seres"};
inline constexpr std::array<std::string_view, 3> report_kinds{"uptime", "operations", "status"};
inline constexpr std::array<std::string_view, 3> priorities{"high", "normal", "low"};
inline constexpr std::array<std::string_view, 3> access_levels{"read", "write", "admin"};
inline constexpr std::array<std::string_view, 2> review_outcomes{"kept", "reduced"};

// ---- nested values ----
struct artifact {
    std::string name;
    std::string version;
    std::string digest;
};

// ---- directory ----
struct actor_registered { std::string name; std::string organization; std::string kind; };
struct role_granted { std::string role; std::string system; std::optional<std::string> valid_until; };
struct role_revoked { std::string role; std::string system; };

// ---- changes ----
struct change_requested {
    std::string title;
    std::string category;
    std::string description;
    std::optional<bool> emergency;
};
struct change_approved { std::string gate; std::optional<std::string> comment; };
struct change_rejected { std::string gate; std::string reason; };
struct change_deployed { std::string environment; events::artifact artifact; };
struct test_signed_off {
    std::string environment;
    std::string result;
    std::string artifact_digest;
    std::optional<std::string> comment;
};
struct change_rolled_back { std::string environment; std::string reason; };
struct change_verified { std::string environment; std::string result; };
struct change_documented { std::string reference; };
struct change_closed { std::string outcome; };

// ---- routes and service agreements ----
struct agreement_requested { std::string provider_system; std::string consumer_system; std::string service; };
struct agreement_approved {};
struct agreement_terminated { std::string reason; };
struct route_ordered {
    std::string action;
    std::string transport;
    std::string addressing;
    std::string sender_system;
    std::string receiver_system;
    std::string order_id;
    std::optional<std::string> agreement;
    std::optional<std::string> replaces;
};
struct window_opened { std::string reason; };
struct window_closed {};
struct route_activated { std::string window; };
struct route_decommissioned { std::string window; std::optional<bool> archived; };
struct route_rolled_back { std::string window; std::string reason; };

// ---- keys and certificates ----
struct key_issued {
    std::string purpose;
    std::string owner;
    std::string fingerprint;
    std::string not_after;
    std::optional<std::string> public_key;
};
struct key_activated {};
struct key_rotated { std::string successor; std::string reason; };
struct key_revoked { std::string reason; };

// ---- incidents, maintenance, availability ----
struct incident_reported { std::string category; std::string service; std::string summary; };
struct incident_recategorized { std::string category; };
struct incident_workaround { std::string description; };
struct incident_resolved { std::string resolution; };
struct incident_feedback_sent {};
struct incident_closed {};
struct maintenance_announced { std::string service; std::string starts_at; std::string ends_at; std::string impact; };
struct maintenance_completed {};
struct service_registered { std::string environment; std::optional<double> target; };
struct outage_started { std::optional<std::string> incident; };
struct outage_ended {};

// ---- reports, change requests, access, calendar ----
struct report_submitted { std::string kind; std::string period; };
struct report_approved { std::optional<std::string> comment; };
struct report_rejected { std::optional<std::string> comment; };
struct request_submitted { std::string title; };
struct request_acknowledged {};
struct request_qualified { std::string priority; };
struct request_analysed {};
struct access_granted {
    std::string subject;
    std::string level;
    std::optional<std::string> expires_at;
    std::string justification;
};
struct access_reviewed { std::string outcome; };
struct access_revoked { std::string reason; };
struct calendar_holiday_added { std::string date; };
struct calendar_holiday_removed { std::string date; };

/// Every event's data. A std::visit that forgets a type does not compile.
using event_data = std::variant<
    actor_registered, role_granted, role_revoked,
    change_requested, change_approved, change_rejected, change_deployed, test_signed_off, change_rolled_back,
    change_verified, change_documented, change_closed,
    agreement_requested, agreement_approved, agreement_terminated, route_ordered, window_opened, window_closed,
    route_activated, route_decommissioned, route_rolled_back,
    key_issued, key_activated, key_rotated, key_revoked,
    incident_reported, incident_recategorized, incident_workaround, incident_resolved, incident_feedback_sent,
    incident_closed, maintenance_announced, maintenance_completed, service_registered, outage_started, outage_ended,
    report_submitted, report_approved, report_rejected, request_submitted, request_acknowledged, request_qualified,
    request_analysed, access_granted, access_reviewed, access_revoked, calendar_holiday_added,
    calendar_holiday_removed>;

/// The public type string of the alternative held.
[[nodiscard]] std::string_view type_name(const event_data& d) noexcept;
/// The entity kind events of this type concern.
[[nodiscard]] entity_kind kind_of(const event_data& d) noexcept;
/// All public type strings, in variant order.
[[nodiscard]] std::span<const std::string_view> all_type_names() noexcept;

}  // namespace ledger::events
