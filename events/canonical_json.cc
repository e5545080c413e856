#include "events/canonical_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <span>
#include <string_view>
#include <vector>

namespace ledger::events {
namespace {

// UTF-8 → UTF-16 code units, for RFC 8785's member ordering. Input is valid UTF-8 (the JSON
// parser guarantees it).
std::u16string utf16(const std::string& s) {
    std::u16string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        char32_t cp;
        std::size_t len;
        if (c < 0x80) {
            cp = c, len = 1;
        } else if ((c >> 5) == 0x6) {
            cp = c & 0x1f, len = 2;
        } else if ((c >> 4) == 0xe) {
            cp = c & 0x0f, len = 3;
        } else {
            cp = c & 0x07, len = 4;
        }
        for (std::size_t k = 1; k < len && i + k < s.size(); ++k) {
            cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3f);
        }
        i += len;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
            out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
        } else {
            out.push_back(static_cast<char16_t>(cp));
        }
    }
    return out;
}

void write_string(std::string& out, std::string_view s) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    std::size_t run = 0;  // start of the current run of characters copied as they are
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        out.append(s.data() + run, i - run);
        run = i + 1;
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                out += "\\u00";
                out += hex[c >> 4];
                out += hex[c & 0xf];
        }
    }
    out.append(s.data() + run, s.size() - run);
    out += '"';
}

void write(std::string& out, const nlohmann::json& v);

bool is_ascii(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Writes an object's members, plus `extra` string members, in RFC 8785 order. For ASCII keys
// (the usual case) byte order is UTF-16 order, so no conversion is needed.
void write_object(std::string& out, const nlohmann::json::object_t& object,
                  std::span<const std::pair<std::string_view, std::string_view>> extra) {
    struct member {
        std::string_view key;
        const nlohmann::json* value;   // or
        std::string_view text;         // for an extra member
    };
    std::vector<member> members;
    members.reserve(object.size() + extra.size());
    bool ascii = true;
    for (const auto& [key, value] : object) {
        members.push_back(member{key, &value, {}});
        ascii = ascii && is_ascii(key);
    }
    for (const auto& [key, text] : extra) {
        members.push_back(member{key, nullptr, text});
        ascii = ascii && is_ascii(key);
    }
    if (ascii) {
        std::sort(members.begin(), members.end(), [](const member& a, const member& b) { return a.key < b.key; });
    } else {
        std::vector<std::pair<std::u16string, std::size_t>> keys;
        keys.reserve(members.size());
        for (std::size_t i = 0; i < members.size(); ++i) keys.emplace_back(utf16(std::string(members[i].key)), i);
        std::sort(keys.begin(), keys.end());
        std::vector<member> sorted;
        sorted.reserve(members.size());
        for (const auto& k : keys) sorted.push_back(members[k.second]);
        members = std::move(sorted);
    }
    out += '{';
    bool first = true;
    for (const auto& m : members) {
        if (!first) out += ',';
        first = false;
        write_string(out, m.key);
        out += ':';
        if (m.value) {
            write(out, *m.value);
        } else {
            write_string(out, m.text);
        }
    }
    out += '}';
}

void write(std::string& out, const nlohmann::json& v) {
    switch (v.type()) {
        case nlohmann::json::value_t::null: out += "null"; break;
        case nlohmann::json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
        case nlohmann::json::value_t::number_integer:
            out += format_number(static_cast<double>(v.get<std::int64_t>()));
            break;
        case nlohmann::json::value_t::number_unsigned:
            out += format_number(static_cast<double>(v.get<std::uint64_t>()));
            break;
        case nlohmann::json::value_t::number_float: out += format_number(v.get<double>()); break;
        case nlohmann::json::value_t::string: write_string(out, v.get_ref<const std::string&>()); break;
        case nlohmann::json::value_t::array: {
            out += '[';
            bool first = true;
            for (const auto& item : v) {
                if (!first) out += ',';
                first = false;
                write(out, item);
            }
            out += ']';
            break;
        }
        case nlohmann::json::value_t::object: write_object(out, v.get_ref<const nlohmann::json::object_t&>(), {}); break;
        case nlohmann::json::value_t::binary:
        case nlohmann::json::value_t::discarded:
            throw std::domain_error("canonicalize: not a JSON value");
    }
}

}  // namespace

std::string format_number(double value) {
    if (!std::isfinite(value)) {
        throw std::domain_error("canonicalize: NaN and Infinity are not JSON numbers");
    }
    if (value == 0) {
        return "0";  // also -0
    }
    std::string out;
    if (value < 0) {
        out += '-';
        value = -value;
    }
    // Shortest round-trip digits (C++17 to_chars), then ECMAScript's layout rules.
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
    std::string_view sci(buf, static_cast<std::size_t>(res.ptr - buf));  // d.ddde±XX
    const auto e_pos = sci.find('e');
    std::string digits;
    for (char c : sci.substr(0, e_pos)) {
        if (c != '.') digits += c;
    }
    while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
    int exp10 = 0;
    std::from_chars(sci.data() + e_pos + 1 + (sci[e_pos + 1] == '+' ? 1 : 0), sci.data() + sci.size(), exp10);
    const int k = static_cast<int>(digits.size());
    const int n = exp10 + 1;  // value = 0.digits × 10^n
    if (k <= n && n <= 21) {
        out += digits;
        out.append(static_cast<std::size_t>(n - k), '0');
    } else if (0 < n && n <= 21) {
        out += digits.substr(0, static_cast<std::size_t>(n));
        out += '.';
        out += digits.substr(static_cast<std::size_t>(n));
    } else if (-6 < n && n <= 0) {
        out += "0.";
        out.append(static_cast<std::size_t>(-n), '0');
        out += digits;
    } else {
        out += digits[0];
        if (k > 1) {
            out += '.';
            out += digits.substr(1);
        }
        out += 'e';
        out += n - 1 >= 0 ? '+' : '-';
        out += std::to_string(std::abs(n - 1));
    }
    return out;
}

namespace {

/// A single-pass checker of the canonical form (is_canonical).
class canonical_checker {
public:
    explicit canonical_checker(std::string_view t) : _t(t) {}
    bool whole() { return value(0) && _i == _t.size(); }

private:
    static constexpr int max_depth = 64;
    bool at(char c) const { return _i < _t.size() && _t[_i] == c; }
    bool eat(char c) {
        if (!at(c)) return false;
        ++_i;
        return true;
    }
    bool literal(std::string_view word) {
        if (_t.substr(_i, word.size()) != word) return false;
        _i += word.size();
        return true;
    }
    bool value(int depth) {
        if (_i >= _t.size() || depth > max_depth) return false;
        switch (_t[_i]) {
            case '{': return object(depth + 1);
            case '[': return array(depth + 1);
            case '"': return string(nullptr);
            case 't': return literal("true");
            case 'f': return literal("false");
            case 'n': return literal("null");
            default: return number();
        }
    }
    bool object(int depth) {
        ++_i;
        if (eat('}')) return true;
        std::string previous_text, key_text;  // keys with escapes, unescaped
        std::string_view previous;
        bool first = true;
        do {
            // A key without escapes is compared where it stands: no copy per member.
            const auto start = _i + 1;
            key_text.clear();
            if (!string(&key_text)) return false;
            std::string_view key = _t.substr(start, _i - 1 - start);
            if (key.find('\\') != std::string_view::npos) key = key_text;
            if (!first && !before(previous, key)) return false;  // out of order, or repeated
            if (key.data() == key_text.data()) {
                previous_text = key_text;
                previous = previous_text;
            } else {
                previous = key;
            }
            first = false;
            if (!eat(':') || !value(depth)) return false;
        } while (eat(','));
        return eat('}');
    }
    /// RFC 8785's member order: by UTF-16 code units (for ASCII, byte order).
    static bool before(std::string_view a, std::string_view b) {
        if (is_ascii(a) && is_ascii(b)) return a < b;
        return utf16(std::string(a)) < utf16(std::string(b));
    }
    bool array(int depth) {
        ++_i;
        if (eat(']')) return true;
        do {
            if (!value(depth)) return false;
        } while (eat(','));
        return eat(']');
    }
    /// A string with exactly write_string()'s escaping; its text (unescaped) into `out` if given.
    bool string(std::string* out) {
        auto put = [out](char c) {
            if (out) out->push_back(c);
        };
        static constexpr char hex[] = "0123456789abcdef";
        ++_i;
        while (_i < _t.size()) {
            const auto c = static_cast<unsigned char>(_t[_i++]);
            if (c == '"') return true;
            if (c < 0x20) return false;  // a control character must be escaped
            if (c != '\\') {
                put(static_cast<char>(c));
                continue;
            }
            if (_i >= _t.size()) return false;
            switch (_t[_i++]) {
                case '"': put('"'); break;
                case '\\': put('\\'); break;
                case 'b': put('\b'); break;
                case 'f': put('\f'); break;
                case 'n': put('\n'); break;
                case 'r': put('\r'); break;
                case 't': put('\t'); break;
                case 'u': {
                    // Only a control character without a short form is written as \u00xx.
                    if (_t.size() - _i < 4 || _t.substr(_i, 2) != "00") return false;
                    const auto hi = _t[_i + 2], lo = _t[_i + 3];
                    if (hi != '0' && hi != '1') return false;
                    const char* l = std::find(hex, hex + 16, lo);
                    if (l == hex + 16) return false;
                    const auto code = static_cast<unsigned char>((hi - '0') * 16 + (l - hex));
                    if (code == '\b' || code == '\f' || code == '\n' || code == '\r' || code == '\t') return false;
                    put(static_cast<char>(code));
                    _i += 4;
                    break;
                }
                default: return false;  // \/ and every other escape are not canonical
            }
        }
        return false;
    }
    bool number() {
        const auto start = _i;
        while (_i < _t.size() && std::string_view("+-0123456789.eE").find(_t[_i]) != std::string_view::npos) ++_i;
        const auto token = _t.substr(start, _i - start);
        if (token.empty()) return false;
        double v = 0;
        const auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
        if (ec != std::errc() || end != token.data() + token.size() || !std::isfinite(v)) return false;
        return format_number(v) == token;
    }

    std::string_view _t;
    std::size_t _i = 0;
};

}  // namespace

bool is_canonical(std::string_view text) { return canonical_checker(text).whole(); }

std::string canonicalize(const nlohmann::json& value) {
    std::string out;
    out.reserve(512);
    write(out, value);
    return out;
}

std::string canonicalize_with(const nlohmann::json& object,
                              std::span<const std::pair<std::string_view, std::string_view>> extra) {
    if (!object.is_object()) {
        throw std::domain_error("canonicalize_with: not a JSON object");
    }
    std::string out;
    out.reserve(512);
    write_object(out, object.get_ref<const nlohmann::json::object_t&>(), extra);
    return out;
}

}  // namespace ledger::events
