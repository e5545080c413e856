#pragma once
// The one error type for expected failures across modules, and result<T> built on Boost.Outcome.
// A failure names what went wrong (`message`, a sentence) and, for bad input, the field path
// (`field`, e.g. "data.artifact.digest") so the HTTP layer can answer {"error","field"}.

#include <string>
#include <system_error>
#include <utility>

#include <boost/outcome/result.hpp>
#include <boost/outcome/try.hpp>

namespace ledger {

struct error {
    std::error_code code;   ///< the module's errc; compare with make_error_code(errc::...)
    std::string message;    ///< a whole sentence, ready for a user
    std::string field;      ///< field path for bad input, else empty
};

/// result<T> holds a T or an error. A result is never silently dropped: it is [[nodiscard]].
template <typename T>
using result = boost::outcome_v2::result<T, error, boost::outcome_v2::policy::terminate>;

/// Returns the error from the enclosing function if `expr` (a result) failed.
#define LEDGER_TRY(...) BOOST_OUTCOME_TRYV(__VA_ARGS__)
/// The value of `expr` (a result), or returns its error from the enclosing function:
/// `auto x = LEDGER_TRY_VALUE(parse(...));`
#define LEDGER_TRY_VALUE(...) BOOST_OUTCOME_TRYX(__VA_ARGS__)

inline auto failure(std::error_code code, std::string message, std::string field = {}) {
    return boost::outcome_v2::failure(error{code, std::move(message), std::move(field)});
}

}  // namespace ledger
