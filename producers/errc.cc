#include "producers/kafka_properties.h"

namespace ledger::producers {
namespace {

class category final : public std::error_category {
public:
    const char* name() const noexcept override { return "ledger.producers"; }
    std::string message(int ev) const override {
        switch (static_cast<errc>(ev)) {
            case errc::weakened_durability: return "configuration weakens durability";
            case errc::invalid_property: return "invalid Kafka property";
            case errc::kafka_unavailable: return "Kafka is unavailable";
            case errc::kafka_fatal: return "the Kafka producer hit a fatal error";
            case errc::delivery_failed: return "Kafka did not acknowledge the record";
            case errc::topic_policy: return "the ledger topic would lose audit data";
            case errc::admin_failed: return "a Kafka admin request failed";
        }
        return "unknown producers error";
    }
};

}  // namespace

const std::error_category& producers_category() noexcept {
    static const category instance;
    return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), producers_category()}; }

}  // namespace ledger::producers
