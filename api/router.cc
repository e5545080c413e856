#include "api/router.h"

#include <optional>

#include "api/responses.h"

namespace ledger::api {
namespace {

std::vector<std::string> split_path(std::string_view path) {
    std::vector<std::string> out;
    std::size_t i = 1;  // skip the leading '/'
    while (i <= path.size()) {
        const auto j = path.find('/', i);
        const auto end = j == std::string_view::npos ? path.size() : j;
        out.emplace_back(path.substr(i, end - i));
        i = end + 1;
    }
    return out;
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::optional<std::string> percent_decode(std::string_view s, bool plus_is_space) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size()) {
                return std::nullopt;
            }
            const int hi = hex(s[i + 1]);
            const int lo = hex(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        } else if (plus_is_space && s[i] == '+') {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}

}  // namespace

bool parse_target(std::string_view target, std::string& path, std::map<std::string, std::string>& query) {
    if (target.empty() || target.front() != '/') {
        return false;
    }
    const auto q = target.find('?');
    auto decoded = percent_decode(target.substr(0, q), false);
    if (!decoded) {
        return false;
    }
    path = std::move(*decoded);
    if (q == std::string_view::npos) {
        return true;
    }
    std::string_view rest = target.substr(q + 1);
    while (!rest.empty()) {
        const auto amp = rest.find('&');
        const auto pair = rest.substr(0, amp);
        rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const auto eq = pair.find('=');
        auto key = percent_decode(pair.substr(0, eq), true);
        auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1), true);
        if (!key || !value) {
            return false;
        }
        query[std::move(*key)] = std::move(*value);
    }
    return true;
}

void router::add(http::verb method, std::string_view pattern, handler h) {
    _routes.push_back(route{method, split_path(pattern), std::move(h)});
}

void router::dispatch(request&& req, responder respond) const {
    request_context ctx;
    std::string path;
    const auto target = req.target();
    if (!parse_target(std::string_view(target.data(), target.size()), path, ctx.query)) {
        respond(error_response(req, http::status::bad_request, "The request target is malformed."));
        return;
    }
    const auto segments = split_path(path);
    bool path_known = false;
    std::string allow;  // the methods the path takes, for a 405's Allow header
    for (const auto& r : _routes) {
        if (r.segments.size() != segments.size()) {
            continue;
        }
        std::map<std::string, std::string> captured;
        bool match = true;
        for (std::size_t i = 0; i < segments.size() && match; ++i) {
            const auto& pat = r.segments[i];
            if (pat.size() > 2 && pat.front() == '{' && pat.back() == '}') {
                if (segments[i].empty()) {
                    match = false;
                } else {
                    captured[pat.substr(1, pat.size() - 2)] = segments[i];
                }
            } else {
                match = pat == segments[i];
            }
        }
        if (!match) {
            continue;
        }
        path_known = true;
        if (r.method != req.method() && !(r.method == http::verb::get && req.method() == http::verb::head)) {
            const auto name = std::string(http::to_string(r.method));
            if (allow.find(name) == std::string::npos) allow += (allow.empty() ? "" : ", ") + name;
            if (r.method == http::verb::get && allow.find("HEAD") == std::string::npos) allow += ", HEAD";
            continue;
        }
        ctx.path = std::move(captured);
        r.h(std::move(req), ctx, std::move(respond));
        return;
    }
    if (path_known) {
        auto res = error_response(req, http::status::method_not_allowed,
                                  std::string("Method ") + std::string(req.method_string()) + " is not allowed on " +
                                      path + "; it takes " + allow + ".");
        res.set(http::field::allow, allow);
        respond(std::move(res));
        return;
    }
    respond(error_response(req, http::status::not_found, "No such endpoint: " + path + "."));
}

}  // namespace ledger::api
