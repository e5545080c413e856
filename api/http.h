#pragma once
// The HTTP types handlers see.

#include <functional>
#include <map>
#include <string>
#include <type_traits>
#include <utility>

#include <boost/beast/http.hpp>

namespace ledger::api {

namespace http = boost::beast::http;

using request = http::request<http::string_body>;
using response = http::response<http::string_body>;

/// The header of an answer whose body is sent in pieces (Transfer-Encoding: chunked).
using streamed_header = http::response<http::empty_body>;

/// Appends the body's next piece to `out` and returns true, or returns false once the body is
/// complete. Called on the connection's I/O thread, one piece after the previous one was written,
/// so it must not block for long. If it throws, the connection is closed without the last chunk:
/// the client sees a truncated answer, never a complete-looking wrong one.
using body_source = std::function<bool(std::string& out)>;

/// Sends the answer to one request. Call exactly once, from any thread: either with a whole
/// response, or with stream() for a body produced piece by piece.
class responder {
public:
    using send_fn = std::function<void(response)>;
    using stream_fn = std::function<void(streamed_header, body_source)>;

    responder() = default;
    /// A responder for whole responses only; stream() then collects the pieces into one.
    template <class F, std::enable_if_t<!std::is_same_v<std::decay_t<F>, responder> &&
                                            std::is_invocable_v<F&, response>,
                                        int> = 0>
    responder(F send) : _send(std::move(send)) {}  // NOLINT: a lambda is a responder
    responder(send_fn send, stream_fn stream) : _send(std::move(send)), _stream(std::move(stream)) {}

    void operator()(response res) const { _send(std::move(res)); }

    void stream(streamed_header header, body_source source) const {
        if (_stream) {
            _stream(std::move(header), std::move(source));
            return;
        }
        response res(std::move(header.base()));
        std::string body;
        while (source(body)) {
        }
        res.body() = std::move(body);
        res.prepare_payload();
        _send(std::move(res));
    }

    explicit operator bool() const { return static_cast<bool>(_send); }

private:
    send_fn _send;
    stream_fn _stream;
};

/// Path parameters ({kind} → "change") and decoded query parameters.
struct request_context {
    std::map<std::string, std::string> path;
    std::map<std::string, std::string> query;
};

using handler = std::function<void(request&&, const request_context&, responder)>;

}  // namespace ledger::api
