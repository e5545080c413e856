#include "events/event.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>

#include "events/canonical_json.h"
#include "events/ed25519.h"
#include "events/schemas.h"

namespace ledger::events {
namespace {

using json = nlohmann::json;

template <typename T>
struct optional_traits {
    static constexpr bool is_optional = false;
    using value = T;
};
template <typename T>
struct optional_traits<std::optional<T>> {
    static constexpr bool is_optional = true;
    using value = T;
};

std::string join(const std::string& path, std::string_view name) {
    return path.empty() ? std::string(name) : path + "." + std::string(name);
}

// Where a value sits ("data.artifact.digest"), spelled out only when a message needs it: the
// happy path of decoding builds no path strings.
struct field_path {
    const std::string& parent;
    std::string_view name;
    [[nodiscard]] std::string str() const { return join(parent, name); }
};

// A document as decoding reads it, built from nlohmann's SAX events without its DOM: a record
// read back from the log is decoded and dropped at once, and building and freeing a DOM of
// std::map nodes was most of that work. Members are kept sorted by key, as in a json object, so
// decoding walks them in the same order and gives the same answers, errors included. Keys and
// strings are views: into simdjson's document, or into the strings the nlohmann fallback keeps
// (lite_builder); either lives until the thread parses its next record.
struct lite_member;
struct lite_value {
    json::value_t kind = json::value_t::null;
    bool boolean = false;
    double number = 0;
    std::string_view text;
    std::vector<lite_member> members;  ///< an object's, sorted by key
    std::vector<lite_value> elements;  ///< an array's (no event field is an array: never read)
};
struct lite_member {
    std::string_view key;
    lite_value value;
};

// The few reads decoding makes, for either document.
json::value_t kind_of(const json& v) { return v.type(); }
json::value_t kind_of(const lite_value& v) { return v.kind; }
const json* member(const json& object, std::string_view name) {
    const auto it = object.find(name);
    return it == object.end() ? nullptr : &*it;
}
const lite_value* member(const lite_value& object, std::string_view name) {
    for (const auto& m : object.members) {
        if (m.key == name) return &m.value;
    }
    return nullptr;
}
auto members(const json& object) { return object.items(); }
const std::vector<lite_member>& members(const lite_value& object) { return object.members; }
const std::string& text_of(const json& v) { return v.get_ref<const std::string&>(); }
std::string_view text_of(const lite_value& v) { return v.text; }
bool boolean_of(const json& v) { return v.get<bool>(); }
bool boolean_of(const lite_value& v) { return v.boolean; }
double number_of(const json& v) { return v.get<double>(); }
double number_of(const lite_value& v) { return v.number; }
template <typename J>
bool is(const J& v, json::value_t kind) { return kind_of(v) == kind; }
template <typename J>
bool is_number(const J& v) {
    const auto k = kind_of(v);
    return k == json::value_t::number_integer || k == json::value_t::number_unsigned || k == json::value_t::number_float;
}

template <typename J>
const char* json_kind(const J& v) {
    switch (kind_of(v)) {
        case json::value_t::null: return "null";
        case json::value_t::boolean: return "a boolean";
        case json::value_t::number_integer:
        case json::value_t::number_unsigned:
        case json::value_t::number_float: return "a number";
        case json::value_t::string: return "a string";
        case json::value_t::array: return "an array";
        case json::value_t::object: return "an object";
        default: return "a value";
    }
}

error make_error(errc code, std::string field, std::string message) {
    return error{code, std::move(message), std::move(field)};
}

bool is_hex(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    });
}

// An id: 1..128 bytes, no whitespace or control characters, no '/'.
bool valid_identifier(std::string_view s) {
    if (s.empty() || s.size() > 128) return false;
    return std::none_of(s.begin(), s.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c <= 0x20 || c == 0x7f || c == '/';
    });
}

bool valid_uuid(std::string_view s) {
    if (s.size() != 36) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-') return false;
        } else if (!is_hex(s.substr(i, 1))) {
            return false;
        }
    }
    return true;
}

std::string choices_text(std::span<const std::string_view> choices) {
    std::string out;
    for (std::size_t i = 0; i < choices.size(); ++i) {
        if (i > 0) out += i + 1 == choices.size() ? " or " : ", ";
        out += choices[i];
    }
    return out;
}

std::optional<error> check_timestamp(const std::string& v, const field_path& at) {
    auto where = [&] { return at.str(); };
    const auto parsed = parse_rfc3339(v);
    switch (parsed.problem) {
        case time_problem::none: return std::nullopt;
        case time_problem::no_offset:
            return make_error(errc::missing_offset, where(),
                              fmt::format("{} '{}' has no UTC offset; add Z or ±HH:MM (RFC 3339).", where(), v));
        case time_problem::out_of_range:
            return make_error(errc::invalid_value, where(), fmt::format("{} '{}' is not a real date and time.", where(), v));
        case time_problem::malformed: break;
    }
    return make_error(errc::invalid_value, where(),
                      fmt::format("{} '{}' is not an RFC 3339 time such as 2026-03-02T14:30:00+01:00.", where(), v));
}

// Checks a string value against its rule; for references, strips an optional "<kind>/" prefix.
std::optional<error> check_string(const rule& r, std::string& v, const field_path& at) {
    auto where = [&] { return at.str(); };
    auto invalid = [&](std::string what) { return make_error(errc::invalid_value, where(), std::move(what)); };
    switch (r.format) {
        case value_format::text:
            if (v.empty()) return invalid(fmt::format("{} must not be empty.", where()));
            return std::nullopt;
        case value_format::identifier:
            if (!valid_identifier(v))
                return invalid(fmt::format("{} '{}' is not an id (1 to 128 characters, no spaces, no '/').", where(), v));
            return std::nullopt;
        case value_format::system:
            if (v != "*" && !valid_identifier(v))
                return invalid(fmt::format("{} '{}' is not a system id or '*'.", where(), v));
            return std::nullopt;
        case value_format::reference: {
            const std::string prefix = std::string(to_string(r.ref)) + "/";
            if (v.starts_with(prefix)) v.erase(0, prefix.size());
            if (!valid_identifier(v))
                return invalid(fmt::format("{} '{}' is not a {} id.", where(), v, to_string(r.ref)));
            return std::nullopt;
        }
        case value_format::rfc3339: return check_timestamp(v, at);
        case value_format::date:
            if (!parse_date(v)) return invalid(fmt::format("{} '{}' is not a date YYYY-MM-DD.", where(), v));
            return std::nullopt;
        case value_format::month:
            if (!parse_month(v)) return invalid(fmt::format("{} '{}' is not a month YYYY-MM.", where(), v));
            return std::nullopt;
        case value_format::digest:
            if (!v.starts_with("sha256:") || v.size() != 7 + 64 || !is_hex(std::string_view(v).substr(7)))
                return invalid(fmt::format("{} must be \"sha256:\" followed by 64 hex digits.", where()));
            return std::nullopt;
        case value_format::fingerprint:  // domain.md 2.3 says "sha256:" + hex, of no fixed length
            if (!v.starts_with("sha256:") || v.size() == 7 || !is_hex(std::string_view(v).substr(7)))
                return invalid(fmt::format("{} must be \"sha256:\" followed by hex digits.", where()));
            return std::nullopt;
        case value_format::public_key: {
            const auto raw = base64_decode(v);
            if (!raw || raw->size() != 32)
                return invalid(fmt::format("{} must be the base64 of a 32-byte Ed25519 public key.", where()));
            return std::nullopt;
        }
        case value_format::choice:
            if (std::find(r.choices.begin(), r.choices.end(), v) == r.choices.end())
                return make_error(errc::not_in_enumeration, where(),
                                  fmt::format("{} '{}' is not one of {}.", where(), v, choices_text(r.choices)));
            return std::nullopt;
        case value_format::percent:
        case value_format::boolean:
        case value_format::object: break;
    }
    return invalid(fmt::format("{} has an unsupported rule.", where()));
}

template <typename T, typename J>
result<T> decode_object(const J& j, const std::string& path, std::string_view what);

template <typename S, typename M, typename J>
std::optional<error> decode_member(const J& obj, const std::string& path, const field<S, M>& f, S& out) {
    using traits = optional_traits<M>;
    using V = typename traits::value;
    const field_path at{path, f.name};
    auto where = [&] { return at.str(); };
    const J* it = member(obj, f.name);
    if (it == nullptr || is(*it, json::value_t::null)) {
        if constexpr (traits::is_optional) {
            return std::nullopt;
        } else {
            return make_error(errc::missing_field, where(), fmt::format("{} is required.", where()));
        }
    }
    auto wrong = [&](const char* want) {
        return make_error(errc::wrong_type, where(), fmt::format("{} must be {}, not {}.", where(), want, json_kind(*it)));
    };
    if constexpr (std::is_same_v<V, std::string>) {
        if (!is(*it, json::value_t::string)) return wrong("a string");
        std::string v(text_of(*it));
        if (auto e = check_string(f.r, v, at)) return e;
        out.*(f.member) = std::move(v);
    } else if constexpr (std::is_same_v<V, bool>) {
        if (!is(*it, json::value_t::boolean)) return wrong("true or false");
        out.*(f.member) = boolean_of(*it);
    } else if constexpr (std::is_same_v<V, double>) {
        if (!is_number(*it)) return wrong("a number");
        const double v = number_of(*it);
        if (!(v > 0 && v <= 100))
            return make_error(errc::invalid_value, where(), fmt::format("{} must be a percentage above 0 and at most 100.", where()));
        out.*(f.member) = v;
    } else {
        auto nested = decode_object<V>(*it, where(), "an " + std::string(f.name));
        if (!nested) return nested.error();
        out.*(f.member) = std::move(nested).value();
    }
    return std::nullopt;
}

// The JSON names of T's fields, in table order; made once per type.
template <typename T>
const std::vector<std::string_view>& field_names() {
    static const std::vector<std::string_view> names =
        std::apply([](const auto&... f) { return std::vector<std::string_view>{f.name...}; }, schema<T>::fields);
    return names;
}

// Rules that span fields of one type (domain.md 2.3).
std::optional<error> check_across(const route_ordered& r) {
    if (r.transport == "webservice" && (r.action == "establish" || r.action == "replace") && !r.agreement) {
        return make_error(errc::missing_field, "data.agreement",
                          "data.agreement is required to establish or replace a webservice route.");
    }
    return std::nullopt;
}
std::optional<error> check_across(const key_issued& k) {
    if (k.purpose == "signing" && !k.public_key) {
        return make_error(errc::missing_field, "data.public_key",
                          "data.public_key (base64 Ed25519) is required for a signing key.");
    }
    return std::nullopt;
}
std::optional<error> check_across(const maintenance_announced& m) {
    if (parse_rfc3339(m.ends_at).at < parse_rfc3339(m.starts_at).at) {
        return make_error(errc::invalid_value, "data.ends_at", "data.ends_at is before data.starts_at.");
    }
    return std::nullopt;
}
std::optional<error> check_across(const auto&) { return std::nullopt; }

template <typename T, typename J>
result<T> decode_object(const J& j, const std::string& path, std::string_view what) {
    if (!is(j, json::value_t::object)) {
        return make_error(errc::not_an_object, path, fmt::format("{} must be an object, not {}.", path, json_kind(j)));
    }
    const auto& names = field_names<T>();
    for (const auto& [key, value] : members(j)) {
        if (std::find(names.begin(), names.end(), key) == names.end()) {
            std::string known;
            for (auto n : names) known += (known.empty() ? "" : ", ") + std::string(n);
            return make_error(errc::unknown_field, join(path, key),
                              names.empty() ? fmt::format("{} is not a field: {} has no data fields.", join(path, key), what)
                                            : fmt::format("{} is not a field of {}; its fields are {}.",
                                                          join(path, key), what, known));
        }
    }
    T out{};
    std::optional<error> err;
    std::apply([&](const auto&... f) { ((err ? void() : void(err = decode_member(j, path, f, out))), ...); },
               schema<T>::fields);
    if (err) return *err;
    if (auto e = check_across(out)) return *e;
    return out;
}

// ---- the type registry: public type string → decoder of `data` ----

template <typename T, typename J>
result<event_data> decode_data(const J* data) {
    const std::string what = std::string(schema<T>::type);
    if (data == nullptr) {
        // data may be left out when the type has no required field.
        const bool any_required = std::apply(
            [](const auto&... f) {
                return (false || ... ||
                        !optional_traits<std::remove_cvref_t<decltype(std::declval<T>().*(f.member))>>::is_optional);
            },
            schema<T>::fields);
        if (!any_required) {
            return event_data{T{}};
        }
        return make_error(errc::missing_field, "data", fmt::format("data is required for {}.", what));
    }
    auto decoded = decode_object<T>(*data, "data", what);
    if (!decoded) return decoded.error();
    return event_data{std::move(decoded).value()};
}

struct type_entry {
    entity_kind kind;
    result<event_data> (*decode)(const json* data);
    result<event_data> (*decode_lite)(const lite_value* data);
};

template <std::size_t... I>
std::unordered_map<std::string_view, type_entry> make_registry(std::index_sequence<I...>) {
    return {{schema<std::variant_alternative_t<I, event_data>>::type,
             type_entry{schema<std::variant_alternative_t<I, event_data>>::kind,
                        &decode_data<std::variant_alternative_t<I, event_data>, json>,
                        &decode_data<std::variant_alternative_t<I, event_data>, lite_value>}}...};
}

const std::unordered_map<std::string_view, type_entry>& registry() {
    static const auto r = make_registry(std::make_index_sequence<std::variant_size_v<event_data>>{});
    return r;
}

template <std::size_t... I>
std::array<std::string_view, sizeof...(I)> make_type_names(std::index_sequence<I...>) {
    return {schema<std::variant_alternative_t<I, event_data>>::type...};
}
const auto type_names = make_type_names(std::make_index_sequence<std::variant_size_v<event_data>>{});

// ---- encoding ----

template <typename T>
json encode_object(const T& value) {
    json out = json::object();
    std::apply(
        [&](const auto&... f) {
            (
                [&] {
                    const auto& m = value.*(f.member);
                    using M = std::decay_t<decltype(m)>;
                    if constexpr (optional_traits<M>::is_optional) {
                        if (m) out[std::string(f.name)] = *m;
                    } else if constexpr (std::is_class_v<M> && !std::is_same_v<M, std::string>) {
                        out[std::string(f.name)] = encode_object(m);
                    } else {
                        out[std::string(f.name)] = m;
                    }
                }(),
                ...);
        },
        schema<T>::fields);
    return out;
}

// ---- the envelope ----

constexpr std::array<std::string_view, 8> envelope_fields{"id", "type", "entity", "system",
                                                          "actor", "occurred_at", "data", "signature"};

/// Reads the string member `name` into `out`; an error when it is missing or not a string.
template <typename J>
std::optional<error> read_string(const J& j, std::string_view name, std::string& out) {
    const J* it = member(j, name);
    if (it == nullptr || is(*it, json::value_t::null)) {
        return make_error(errc::missing_field, std::string(name), fmt::format("{} is required.", name));
    }
    if (!is(*it, json::value_t::string)) {
        return make_error(errc::wrong_type, std::string(name),
                          fmt::format("{} must be a string, not {}.", name, json_kind(*it)));
    }
    out.assign(text_of(*it));
    return std::nullopt;
}

template <typename J>
result<signature_ref> decode_signature(const J& j) {
    if (!is(j, json::value_t::object)) {
        return make_error(errc::not_an_object, "signature",
                          fmt::format("signature must be an object {{\"key\", \"sig\"}}, not {}.", json_kind(j)));
    }
    for (const auto& [key, value] : members(j)) {
        if (key != "key" && key != "sig") {
            return make_error(errc::unknown_field, "signature." + std::string(key),
                              fmt::format("signature.{} is not a field of signature; its fields are key, sig.", key));
        }
    }
    signature_ref s;
    for (const char* name : {"key", "sig"}) {
        const J* it = member(j, name);
        const std::string where = std::string("signature.") + name;
        if (it == nullptr || is(*it, json::value_t::null)) {
            return make_error(errc::missing_field, where, fmt::format("{} is required.", where));
        }
        if (!is(*it, json::value_t::string)) {
            return make_error(errc::wrong_type, where, fmt::format("{} must be a string, not {}.", where, json_kind(*it)));
        }
        (std::string_view(name) == "key" ? s.key : s.sig) = text_of(*it);
    }
    if (!s.key.starts_with("key/") || !valid_identifier(std::string_view(s.key).substr(4))) {
        return make_error(errc::invalid_value, "signature.key",
                          fmt::format("signature.key '{}' must name a key as key/<id>.", s.key));
    }
    const auto raw = base64_decode(s.sig);
    if (!raw || raw->size() != 64) {
        return make_error(errc::invalid_value, "signature.sig",
                          "signature.sig must be the base64 of a 64-byte Ed25519 signature.");
    }
    return s;
}

}  // namespace

std::string_view to_string(entity_kind k) noexcept {
    switch (k) {
        case entity_kind::actor: return "actor";
        case entity_kind::change: return "change";
        case entity_kind::route: return "route";
        case entity_kind::agreement: return "agreement";
        case entity_kind::window: return "window";
        case entity_kind::key: return "key";
        case entity_kind::incident: return "incident";
        case entity_kind::maintenance: return "maintenance";
        case entity_kind::service: return "service";
        case entity_kind::report: return "report";
        case entity_kind::request: return "request";
        case entity_kind::access: return "access";
        case entity_kind::calendar: return "calendar";
    }
    return "unknown";
}

std::optional<entity_kind> parse_entity_kind(std::string_view s) noexcept {
    for (int i = 0; i <= static_cast<int>(entity_kind::calendar); ++i) {
        if (to_string(static_cast<entity_kind>(i)) == s) return static_cast<entity_kind>(i);
    }
    return std::nullopt;
}

std::string_view type_name(const event_data& d) noexcept {
    return std::visit([](const auto& v) { return schema<std::decay_t<decltype(v)>>::type; }, d);
}

entity_kind kind_of(const event_data& d) noexcept {
    return std::visit([](const auto& v) { return schema<std::decay_t<decltype(v)>>::kind; }, d);
}

std::span<const std::string_view> all_type_names() noexcept { return type_names; }

namespace {

/// What both document builders share: the open containers, the depth limit and the errors.
template <typename Node>
class checked_builder : public json::json_sax_t {
public:
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t /*position*/, const std::string& /*last_token*/,
                     const nlohmann::detail::exception& e) override {
        // a syntax error, or out_of_range for a number beyond a double (found by fuzzing)
        if (_error.empty()) _error = e.what();
        return false;
    }

    [[nodiscard]] const std::string& error() const { return _error; }

protected:
    /// Whether one more container may open: nesting deeper than max_json_depth is refused.
    bool may_open() {
        if (_stack.size() < static_cast<std::size_t>(max_json_depth)) return true;
        return refuse(fmt::format("JSON nested deeper than {} levels.", max_json_depth));
    }
    bool refuse_duplicate(const std::string& key) {
        return refuse(fmt::format("duplicate key \"{}\" in a JSON object.", key));
    }
    bool close() {
        _stack.pop_back();
        return true;
    }
    bool refuse(std::string why) {
        _error = std::move(why);
        return false;
    }

    std::vector<Node*> _stack;  ///< the open containers, innermost last
    Node* _slot = nullptr;      ///< the member whose key came last
    std::string _error;
};

/// Builds the document from nlohmann's SAX events, as its own DOM parser does, and refuses a
/// duplicate key (one lookup in the object being built) or nesting deeper than max_json_depth.
class checked_dom_builder final : public checked_builder<json> {
public:
    explicit checked_dom_builder(json& root) : _root(root) {}

    bool null() override { return add(nullptr); }
    bool boolean(bool v) override { return add(v); }
    bool number_integer(json::number_integer_t v) override { return add(v); }
    bool number_unsigned(json::number_unsigned_t v) override { return add(v); }
    bool number_float(json::number_float_t v, const json::string_t& /*text*/) override { return add(v); }
    bool string(json::string_t& v) override { return add(std::move(v)); }
    bool binary(json::binary_t& v) override { return add(json::binary(std::move(v))); }
    bool start_object(std::size_t /*elements*/) override { return open(json::value_t::object); }
    bool key(json::string_t& k) override {
        auto& object = _stack.back()->get_ref<json::object_t&>();
        // Keys usually come in order (every ledger record is canonical JSON): a key after the
        // last is placed at the end with one comparison instead of a search.
        if (object.empty() || object.rbegin()->first < k) {
            _slot = &object.emplace_hint(object.end(), std::move(k), nullptr)->second;
            return true;
        }
        auto [it, inserted] = object.try_emplace(std::move(k));
        if (!inserted) return refuse_duplicate(it->first);
        _slot = &it->second;
        return true;
    }
    bool start_array(std::size_t /*elements*/) override { return open(json::value_t::array); }

private:
    template <class V>
    json* place(V&& v) {
        if (_stack.empty()) {
            _root = json(std::forward<V>(v));
            return &_root;
        }
        json& top = *_stack.back();
        if (top.is_array()) {
            auto& array = top.get_ref<json::array_t&>();
            array.emplace_back(std::forward<V>(v));
            return &array.back();
        }
        *_slot = json(std::forward<V>(v));
        return _slot;
    }
    template <class V>
    bool add(V&& v) {
        place(std::forward<V>(v));
        return true;
    }
    bool open(json::value_t kind) {
        if (!may_open()) return false;
        _stack.push_back(place(json(kind)));
        return true;
    }

    json& _root;
};

/// Builds a lite_value from nlohmann's SAX events, with the checks of checked_dom_builder and
/// the same messages.
class lite_builder final : public checked_builder<lite_value> {
public:
    explicit lite_builder(lite_value& root) : _root(root) { owned().clear(); }

    bool null() override { return add(json::value_t::null); }
    bool boolean(bool v) override {
        add(json::value_t::boolean)->boolean = v;
        return true;
    }
    bool number_integer(json::number_integer_t v) override { return number(json::value_t::number_integer, static_cast<double>(v)); }
    bool number_unsigned(json::number_unsigned_t v) override { return number(json::value_t::number_unsigned, static_cast<double>(v)); }
    bool number_float(json::number_float_t v, const json::string_t& /*text*/) override { return number(json::value_t::number_float, v); }
    bool string(json::string_t& v) override {
        add(json::value_t::string)->text = own(std::move(v));
        return true;
    }
    bool binary(json::binary_t& /*v*/) override { return add(json::value_t::binary); }
    bool start_object(std::size_t /*elements*/) override { return open(json::value_t::object); }
    bool key(json::string_t& k) override {
        auto& m = _stack.back()->members;
        // Keys usually come in order (every ledger record is canonical JSON): appended at once.
        if (m.empty() || m.back().key < k) {
            _slot = &m.emplace_back(lite_member{own(std::move(k)), {}}).value;
            return true;
        }
        const auto it = std::lower_bound(m.begin(), m.end(), k, [](const lite_member& a, const std::string& b) { return a.key < b; });
        if (it != m.end() && it->key == k) return refuse_duplicate(k);
        _slot = &m.insert(it, lite_member{own(std::move(k)), {}})->value;
        return true;
    }
    bool start_array(std::size_t /*elements*/) override { return open(json::value_t::array); }

private:
    // The strings the document's views point at, kept until the thread's next parse (a deque:
    // its elements never move, so views into short strings' inline buffers stay valid).
    static std::deque<std::string>& owned() {
        thread_local std::deque<std::string> strings;
        return strings;
    }
    static std::string_view own(std::string&& s) { return owned().emplace_back(std::move(s)); }

    // The value the next SAX event is about: the root, the next element of the open array, or
    // the member whose key came last. (Pointers into a container stay valid while it is open:
    // only the innermost open container grows.)
    lite_value* add(json::value_t kind) {
        lite_value* v = &_root;
        if (!_stack.empty()) v = is(*_stack.back(), json::value_t::array) ? &_stack.back()->elements.emplace_back() : _slot;
        v->kind = kind;
        return v;
    }
    bool number(json::value_t kind, double v) {
        add(kind)->number = v;
        return true;
    }
    bool open(json::value_t kind) {
        if (!may_open()) return false;
        auto* opened = add(kind);
        if (kind == json::value_t::object) opened->members.reserve(12);  // a record's envelope: 9 or 10
        _stack.push_back(opened);
        return true;
    }

    lite_value& _root;
};

/// JSON text cannot hold a NUL byte (inside a string it is written \\u0000), and nlohmann's lexer
/// takes one as the end of the input: `{event}` NUL `junk` would parse as the event alone.
std::optional<error> refuse_nul(std::string_view input) {
    const auto nul = input.find('\0');
    if (nul == std::string_view::npos) return std::nullopt;
    return make_error(errc::malformed_json, "",
                      fmt::format("Malformed JSON: a NUL byte at byte {} of {} (JSON cannot hold one; every byte "
                                  "counts, none after it may be ignored).",
                                  nul, input.size()));
}

/// parse_json() into a lite_value: the same document accepted, the same errors.
template <typename Builder, typename Document>
std::optional<error> sax_parse_into(std::string_view input, Document& root) {
    if (auto e = refuse_nul(input)) return e;
    Builder builder(root);
    bool ok = false;
    try {
        ok = json::sax_parse(input.begin(), input.end(), &builder, json::input_format_t::json, true);
    } catch (const json::exception& e) {
        // nlohmann's text without its "[json.exception.parse_error.101] " tag: a library's
        // internals are not the user's business.
        std::string_view what = e.what();
        if (what.starts_with("[json.exception.")) {
            if (const auto end = what.find("] "); end != std::string_view::npos) what.remove_prefix(end + 2);
        }
        return make_error(errc::malformed_json, "", "Malformed JSON: " + std::string(what));
    }
    if (!ok) return make_error(errc::malformed_json, "", "Malformed JSON: " + builder.error());
    return std::nullopt;
}

/// simdjson's document into a lite_value, for the records that are plainly valid: true when
/// it parsed `input` and its document is one nlohmann would build the same. Anything else —
/// a syntax error, a duplicate key, deep nesting, a number nlohmann reads otherwise (-0, one
/// beyond 64 bits) — is false, and the caller parses again with nlohmann, whose document and
/// errors are the reference. Stricter here than there costs only time; laxer never happens.
class simd_converter {
public:
    bool parse(std::string_view input, lite_value& root) {
        simdjson::dom::element doc;
        if (_parser.parse(input.data(), input.size(), true).get(doc) != simdjson::SUCCESS) return false;
        return convert(doc, root, 0);
    }

private:
    static bool convert(simdjson::dom::element e, lite_value& out, int open) {
        using simdjson::dom::element_type;
        switch (e.type()) {
            case element_type::OBJECT: {
                if (open >= max_json_depth) return false;
                out.kind = json::value_t::object;
                simdjson::dom::object object;
                if (e.get_object().get(object) != simdjson::SUCCESS) return false;
                out.members.reserve(object.size());
                for (const auto field : object) {
                    auto& m = out.members;
                    lite_value* slot = nullptr;
                    // In order, as every ledger record is: appended at once; else placed sorted.
                    if (m.empty() || m.back().key < field.key) {
                        slot = &m.emplace_back(lite_member{field.key, {}}).value;
                    } else {
                        const auto it = std::lower_bound(
                            m.begin(), m.end(), field.key,
                            [](const lite_member& a, std::string_view b) { return a.key < b; });
                        if (it != m.end() && it->key == field.key) return false;  // duplicate: nlohmann says so
                        slot = &m.insert(it, lite_member{field.key, {}})->value;
                    }
                    if (!convert(field.value, *slot, open + 1)) return false;
                }
                return true;
            }
            case element_type::ARRAY: {
                if (open >= max_json_depth) return false;
                out.kind = json::value_t::array;
                simdjson::dom::array array;
                if (e.get_array().get(array) != simdjson::SUCCESS) return false;
                for (const auto item : array) {
                    if (!convert(item, out.elements.emplace_back(), open + 1)) return false;
                }
                return true;
            }
            case element_type::STRING:
                out.kind = json::value_t::string;
                out.text = e.get_string().value_unsafe();
                return true;
            case element_type::INT64: {
                const auto v = e.get_int64().value_unsafe();
                // nlohmann reads a non-negative integer as unsigned, a negative one as signed
                out.kind = v < 0 ? json::value_t::number_integer : json::value_t::number_unsigned;
                out.number = static_cast<double>(v);
                return true;
            }
            case element_type::UINT64:
                out.kind = json::value_t::number_unsigned;
                out.number = static_cast<double>(e.get_uint64().value_unsafe());
                return true;
            case element_type::DOUBLE: {
                const double v = e.get_double().value_unsafe();
                if (v == 0 && std::signbit(v)) return false;  // "-0": nlohmann reads an integer 0
                out.kind = json::value_t::number_float;
                out.number = v;
                return true;
            }
            case element_type::BOOL:
                out.kind = json::value_t::boolean;
                out.boolean = e.get_bool().value_unsafe();
                return true;
            case element_type::NULL_VALUE:
                out.kind = json::value_t::null;
                return true;
        }
        return false;
    }

    simdjson::dom::parser _parser;
};

}  // namespace

result<json> parse_json(std::string_view input) {
    json root;
    if (auto e = sax_parse_into<checked_dom_builder>(input, root)) return *e;
    return root;
}

namespace {

// decode_event() on either document, all but keeping the document: into `ev`, which is left
// partly filled on an error.
template <typename J>
std::optional<error> decode_fields(const J& posted, std::optional<timestamp> now, event& ev) {
    if (!is(posted, json::value_t::object)) {
        return make_error(errc::not_an_object, "", fmt::format("An event must be a JSON object, not {}.", json_kind(posted)));
    }
    for (const auto& [key, value] : members(posted)) {
        if (std::find(envelope_fields.begin(), envelope_fields.end(), key) == envelope_fields.end()) {
            return make_error(errc::unknown_field, std::string(key),
                              fmt::format("{} is not a field of an event; the fields are id, type, entity, system, "
                                          "actor, occurred_at, data and signature.",
                                          key));
        }
    }
    auto& env = ev.env;
    if (auto e = read_string(posted, "id", env.id)) return *e;
    if (!valid_uuid(env.id)) {
        return make_error(errc::invalid_value, "id", fmt::format("id '{}' is not a UUID.", env.id));
    }
    if (auto e = read_string(posted, "type", env.type)) return *e;
    const auto entry = registry().find(env.type);
    if (entry == registry().end()) {
        return make_error(errc::unknown_type, "type", fmt::format("type '{}' is not an event type.", env.type));
    }
    if (auto e = read_string(posted, "entity", env.entity)) return *e;
    const auto slash = env.entity.find('/');
    const auto kind = slash == std::string::npos ? std::nullopt : parse_entity_kind(env.entity.substr(0, slash));
    if (!kind || !valid_identifier(env.entity.substr(slash + 1))) {
        return make_error(errc::invalid_value, "entity",
                          fmt::format("entity '{}' is not <kind>/<id> with a known kind, e.g. change/CHG-17.", env.entity));
    }
    if (*kind != entry->second.kind) {
        const auto want = to_string(entry->second.kind);
        return make_error(errc::entity_kind_mismatch, "entity",
                          fmt::format("entity '{}' is a {}, but {} concerns a {} ({}/<id>).", env.entity,
                                      to_string(*kind), env.type, want, want));
    }
    env.kind = *kind;
    env.entity_id = env.entity.substr(slash + 1);
    if (auto e = read_string(posted, "system", env.system)) return *e;
    if (!valid_identifier(env.system)) {
        return make_error(errc::invalid_value, "system",
                          fmt::format("system '{}' is not a system id (no spaces, no '/').", env.system));
    }
    if (auto e = read_string(posted, "actor", env.actor)) return *e;
    if (env.actor.starts_with("actor/")) env.actor.erase(0, 6);
    if (!valid_identifier(env.actor)) {
        return make_error(errc::invalid_value, "actor", fmt::format("actor '{}' is not an actor id.", env.actor));
    }
    if (auto e = read_string(posted, "occurred_at", env.occurred_at)) return *e;
    static const std::string top_level;
    if (auto e = check_timestamp(env.occurred_at, field_path{top_level, "occurred_at"})) return *e;
    env.occurred = parse_rfc3339(env.occurred_at).at;
    if (now && env.occurred > *now + max_clock_skew) {
        return make_error(errc::occurred_in_future, "occurred_at",
                          fmt::format("occurred_at {} is more than {} minutes ahead of the ledger's clock ({}).",
                                      env.occurred_at, max_clock_skew.count(), format_utc(*now)));
    }
    const J* data = member(posted, "data");
    if (data != nullptr && is(*data, json::value_t::null)) data = nullptr;
    auto decoded = [&] {
        if constexpr (std::is_same_v<J, json>) {
            return entry->second.decode(data);
        } else {
            return entry->second.decode_lite(data);
        }
    }();
    if (!decoded) return std::move(decoded).error();
    ev.data = std::move(decoded).value();
    if (const J* sig = member(posted, "signature")) {
        auto s = decode_signature(*sig);
        if (!s) return std::move(s).error();
        env.signature = std::move(s).value();
    }
    return std::nullopt;
}

// The ledger's own fields of a record, which are not part of the event posted.
void remove_ledger_fields(json& record) {
    record.erase("producer");
    record.erase("recorded_at");
}
void remove_ledger_fields(lite_value& record) {
    std::erase_if(record.members, [](const lite_member& m) { return m.key == "producer" || m.key == "recorded_at"; });
}

// decode_record() on either document: the ledger's two fields, then the event without them.
template <typename J>
std::optional<error> decode_recorded(J& parsed, recorded_event& out) {
    if (!is(parsed, json::value_t::object)) {
        return make_error(errc::not_an_object, "", "A ledger record must be a JSON object.");
    }
    if (auto e = read_string(parsed, "producer", out.producer)) return *e;
    if (auto e = read_string(parsed, "recorded_at", out.recorded_at)) return *e;
    const auto recorded = parse_rfc3339(out.recorded_at);
    if (recorded.problem != time_problem::none) {
        return make_error(errc::invalid_value, "recorded_at", "recorded_at is not an RFC 3339 time.");
    }
    out.recorded = recorded.at;
    remove_ledger_fields(parsed);
    return decode_fields(parsed, std::nullopt, out.ev);
}

}  // namespace

result<event> decode_event(json posted, std::optional<timestamp> now) {
    event ev;
    if (auto e = decode_fields(posted, now, ev)) return *e;
    ev.posted = std::move(posted);
    return ev;
}

json encode_data(const event_data& data) {
    return std::visit([](const auto& v) { return encode_object(v); }, data);
}

sha256_digest content_fingerprint(const json& posted) { return sha256(canonicalize(posted)); }

std::string record_bytes(const json& posted, std::string_view producer, std::string_view recorded_at) {
    const std::pair<std::string_view, std::string_view> extra[] = {{"producer", producer},
                                                                   {"recorded_at", recorded_at}};
    return canonicalize_with(posted, extra);
}

result<recorded_event> decode_record(std::string_view bytes) {
    auto parsed = LEDGER_TRY_VALUE(parse_json(bytes));
    recorded_event out;
    if (auto e = decode_recorded(parsed, out)) return *e;
    out.ev.posted = std::move(parsed);
    return out;
}

std::optional<error> decode_record_lean(std::string_view bytes, recorded_event& out) {
    // One document per thread, emptied for each record: its members keep their memory.
    thread_local lite_value parsed;
    auto empty = [] {
        parsed.kind = json::value_t::null;
        parsed.members.clear();
        parsed.elements.clear();
    };
    empty();
    thread_local simd_converter simd;
    if (auto e = refuse_nul(bytes)) return e;
    if (!simd.parse(bytes, parsed)) {
        empty();  // whatever simdjson's document left; nlohmann's is the reference
        if (auto e = sax_parse_into<lite_builder>(bytes, parsed)) return e;
    }
    if (auto e = decode_recorded(parsed, out)) return e;
    if (out.ev.env.signature) {
        // Checking the signature needs the document: parsed again, the rare time it is there.
        auto document = parse_json(bytes);
        if (!document) return std::move(document).error();
        remove_ledger_fields(document.value());
        out.ev.posted = std::move(document).value();
    }
    return std::nullopt;
}

result<recorded_event> decode_record_lean(std::string_view bytes) {
    recorded_event out;
    if (auto e = decode_record_lean(bytes, out)) return *e;
    return out;
}

}  // namespace ledger::events
