#pragma once
// Strong typedefs: a ledger_offset never passes for an entity_seq (style.md, example 1).

#include <compare>
#include <functional>
#include <ostream>
#include <utility>

namespace ledger {

template <typename T, typename Tag>
class named_type {
public:
    using value_type = T;

    constexpr named_type() = default;
    constexpr explicit named_type(T v) : _value(std::move(v)) {}

    [[nodiscard]] constexpr const T& value() const noexcept { return _value; }
    constexpr auto operator<=>(const named_type&) const = default;

    friend std::ostream& operator<<(std::ostream& os, const named_type& v) { return os << v._value; }

private:
    T _value{};
};

}  // namespace ledger

template <typename T, typename Tag>
struct std::hash<ledger::named_type<T, Tag>> {
    std::size_t operator()(const ledger::named_type<T, Tag>& v) const noexcept {
        return std::hash<T>{}(v.value());
    }
};
