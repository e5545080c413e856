#pragma once
// Holds back repeats of a log message: a broker that is down makes librdkafka report the same
// failure every second from each client; the log should say it once, then now and then.

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace ledger::events {

class repeat_limiter {
public:
    using clock = std::chrono::steady_clock;
    explicit repeat_limiter(std::chrono::seconds window = std::chrono::seconds(60)) : _window(window) {}

    /// Whether a message of kind `key` is logged at its own level at `now`: the first of its kind,
    /// then the first after each `window`. `held` gets how many of the kind were held back since
    /// the last one admitted (to say so); held-back ones are for debug level. Thread safe.
    bool admit(const std::string& key, std::size_t& held, clock::time_point now = clock::now()) {
        std::lock_guard lock(_mu);
        auto [it, fresh] = _seen.try_emplace(key, entry{now, 0});
        if (fresh || now - it->second.admitted >= _window) {
            held = fresh ? 0 : it->second.held;
            it->second = entry{now, 0};
            return true;
        }
        ++it->second.held;
        held = it->second.held;
        return false;
    }

private:
    struct entry {
        clock::time_point admitted;
        std::size_t held;
    };
    std::chrono::seconds _window;
    std::mutex _mu;
    std::map<std::string, entry> _seen;
};

/// The one limiter of this process's Kafka clients (producers, consumers, probes).
inline repeat_limiter& kafka_log_limiter() {
    static repeat_limiter instance;
    return instance;
}

}  // namespace ledger::events
