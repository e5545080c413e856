#include "projections/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "events/ed25519.h"
#include "events/time.h"
#include "projections/model.h"

namespace ledger::projections {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "ledger.projections"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::data_dir_locked: return "data directory locked by another projector";
            case errc::format_mismatch: return "data directory of another format or ledger";
            case errc::cannot_open: return "cannot open the data directory";
            case errc::offset_gap: return "gap in the log's offsets";
            case errc::not_found: return "no such data directory";
        }
        return "unknown projections error";
    }
};

// Large and sparse: LMDB only uses what it writes. Grown on MDB_MAP_FULL all the same.
constexpr std::size_t initial_map = std::size_t{1} << 30;

}  // namespace

const std::error_category& projections_category() noexcept {
    static const category instance;
    return instance;
}
std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), projections_category()}; }

result<std::pair<std::string, std::string>> load_or_create_key(const std::filesystem::path& dir) {
    const auto path = dir / "ledger.key";
    if (std::ifstream in(path); in) {
        std::string pub, sec;
        std::getline(in, pub);
        std::getline(in, sec);
        auto p = events::base64_decode(pub);
        auto s = events::base64_decode(sec);
        if (!p || !s || p->size() != 32 || s->size() != 64) {
            return failure(errc::format_mismatch, fmt::format("{} is not a ledger key file.", path.string()), "data");
        }
        return std::pair{*p, *s};
    }
    const auto pair = events::ed25519_generate();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        return failure(errc::cannot_open, fmt::format("Cannot create {}: {}", path.string(), std::strerror(errno)),
                       "data");
    }
    const std::string text =
        events::base64_encode(pair.public_key) + "\n" + events::base64_encode(pair.secret_key) + "\n";
    const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return failure(errc::cannot_open, fmt::format("Cannot write {}.", path.string()), "data");
    return std::pair{pair.public_key, pair.secret_key};
}

store::store(std::filesystem::path dir, std::string topic, projections::env e)
    : _dir(std::move(dir)), _topic(std::move(topic)), _env(std::move(e)) {}

store::~store() {
    if (_lock_fd >= 0) ::close(_lock_fd);
}

result<std::unique_ptr<store>> store::open(const std::filesystem::path& dir, const std::string& topic, bool writer,
                                           bool bulk, const sla_policy* policy) {
    std::error_code ec;
    if (!writer && !std::filesystem::exists(dir / "data.mdb", ec)) {
        return failure(errc::not_found, fmt::format("{} holds no read models.", dir.string()), "data");
    }
    std::filesystem::create_directories(dir, ec);
    if (ec) return failure(errc::cannot_open, fmt::format("Cannot create {}: {}", dir.string(), ec.message()), "data");
    int lock_fd = -1;
    if (writer) {
        // The lock is held on the data file itself (created here if new; LMDB takes an empty file
        // as a new environment): it cannot be removed without removing the read models, as a
        // lock file beside them could (flock and LMDB's own fcntl locks do not interact).
        lock_fd = ::open((dir / "data.mdb").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock_fd < 0 || ::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
            if (lock_fd >= 0) ::close(lock_fd);
            return failure(errc::data_dir_locked,
                           fmt::format("{} is in use by another projector (one projector per data directory).",
                                       dir.string()),
                           "data");
        }
    }
    try {
        env_options eo;
        eo.map_size = initial_map;
        eo.sync_commits = !bulk;
        std::unique_ptr<store> s(new store(dir, topic, projections::env(dir, eo)));
        s->_lock_fd = lock_fd;
        lock_fd = -1;
        if (writer) s->_env.clear_stale_readers();
        auto& e = s->_env;
        s->meta = e.open_db("meta");
        s->log = e.open_db("log");
        s->ids = e.open_db("ids");
        s->entities = e.open_db("entities");
        s->entity_trail = e.open_db("entity_trail");
        s->actor_trail = e.open_db("actor_trail");
        s->system_trail = e.open_db("system_trail");
        s->time_index = e.open_db("time_index");
        s->findings = e.open_db("findings");
        s->grants = e.open_db("grants");
        s->checkpoints = e.open_db("checkpoints");
        s->obligations = e.open_db("obligations");
        s->deadlines = e.open_db("deadlines");
        s->sla_links = e.open_db("sla_links");
        s->reports = e.open_db("reports");
        if (writer) {
            // Read models are derived from the log: an older format is rebuilt from offset 0. The
            // old file is kept aside once; the ledger key (ledger.key) stays.
            std::optional<std::uint64_t> older;
            {
                read_txn rt(e);
                const auto format = rt.get(s->meta, "format");
                const auto stored_topic = rt.get(s->meta, "topic");
                if (format && read_be64(*format) < format_version && stored_topic && *stored_topic == topic) {
                    older = read_be64(*format);
                }
            }
            if (older) {
                s.reset();  // closes the environment and releases the lock
                const auto aside = dir / fmt::format("data.mdb.format{}", *older);
                std::filesystem::rename(dir / "data.mdb", aside, ec);
                if (ec) {
                    return failure(errc::cannot_open,
                                   fmt::format("{} holds read models of format {}; moving them aside to rebuild "
                                               "failed: {}",
                                               dir.string(), *older, ec.message()),
                                   "data");
                }
                std::filesystem::remove(dir / "lock.mdb", ec);
                spdlog::warn("{} held read models of format {}; this build writes {}: they are rebuilt from the log "
                             "(the old file is kept as {})",
                             dir.string(), *older, format_version, aside.string());
                return open(dir, topic, writer, bulk, policy);
            }
        }
        {
            write_txn txn(e);
            const auto format = txn.get(s->meta, "format");
            const auto stored_topic = txn.get(s->meta, "topic");
            if (format && read_be64(*format) != format_version) {
                return failure(errc::format_mismatch,
                               fmt::format("{} was written by read-model format {}; this build writes {}. Rebuild it "
                                           "with `ledger replay`.",
                                           dir.string(), read_be64(*format), format_version),
                               "data");
            }
            if (stored_topic && !topic.empty() && *stored_topic != topic) {
                return failure(errc::format_mismatch,
                               fmt::format("{} holds the read models of {}, not {}.", dir.string(), *stored_topic, topic),
                               "ledger");
            }
            const auto stored_policy = txn.get(s->meta, "policy");
            if (stored_policy) {
                auto parsed = sla_policy::parse(*stored_policy, (dir / "data.mdb").string());
                if (!parsed) return parsed.error();
                s->_policy = std::move(parsed).value();
            }
            if (writer && policy) {
                const auto text = policy->to_toml();
                if (stored_policy && *stored_policy != text) {
                    return failure(errc::format_mismatch,
                                   fmt::format("{} was projected under another SLA policy (its deadlines were "
                                               "computed under it). Use the same --policy, or rebuild into a new "
                                               "directory with `ledger replay --policy`.",
                                               dir.string()),
                                   "policy");
                }
                s->_policy = *policy;
            }
            if (writer && (!format || !stored_policy)) {
                if (!format) {
                    txn.put(s->meta, "format", be64(format_version));
                    txn.put(s->meta, "topic", topic);
                }
                if (!stored_policy) txn.put(s->meta, "policy", s->_policy.to_toml());
                txn.commit();
            }
            if (stored_topic && s->_topic.empty()) s->_topic = std::string(*stored_topic);
        }
        if (writer) {
            auto key = LEDGER_TRY_VALUE(load_or_create_key(dir));
            s->_public_key = key.first;
            s->_secret_key = key.second;
        } else if (std::filesystem::exists(dir / "ledger.key", ec)) {
            if (auto key = load_or_create_key(dir)) s->_public_key = key.value().first;  // the public half only
        }
        {
            read_txn rt(e);
            s->_signs = rt.get(s->meta, "signer").has_value();
        }
        return s;
    } catch (const lmdb_error& e) {
        if (lock_fd >= 0) ::close(lock_fd);
        return failure(errc::cannot_open, fmt::format("Cannot open the read models in {}: {}", dir.string(), e.what()),
                       "data");
    }
}

void store::mark_signer() {
    if (_signs) return;
    write_txn txn(_env);
    txn.put(meta, "signer", "1");
    txn.commit();
    _signs = true;
}

void store::grow() {
    std::unique_lock lock(_resize);
    _env.grow();
}

void store::release_page_cache() {
    {
        std::shared_lock lock(_resize);  // grow() moves the map
        _env.release_mapped_pages();
    }
    _env.drop_clean_pages();
}

calendar store::make_calendar(MDB_txn* txn) const {
    calendar cal(_policy.hours);
    const std::string prefix = "holiday:";
    cursor c(txn, sla_links);
    for (bool ok = c.seek(prefix); ok && c.key().starts_with(prefix); ok = c.next()) {
        if (auto d = events::parse_date(c.key().substr(prefix.size()))) cal.set_holiday(civil_day{*d}, c.value() == "1");
    }
    return cal;
}

head store::read_head(MDB_txn* txn) const {
    head h;
    auto get = [&](std::string_view key) { return projections::get(txn, meta, key); };
    if (auto n = get("next_offset")) h.next_offset = static_cast<std::int64_t>(read_be64(*n));
    if (auto c = get("chain"); c && c->size() == 32) std::memcpy(h.chain.data(), c->data(), 32);
    if (auto r = get("records")) h.records = read_be64(*r);
    return h;
}

void store::write_head(write_txn& txn, const head& h) const {
    txn.put(meta, "next_offset", be64(static_cast<std::uint64_t>(h.next_offset)));
    txn.put(meta, "chain", events::bytes_view(h.chain));
    txn.put(meta, "records", be64(h.records));
}

head store::current_head() {
    reader r(*this);
    return read_head(r.get());
}

}  // namespace ledger::projections
