#pragma once
// A directory name of its own for one test, removed with everything in it at the end.

#include <filesystem>
#include <random>
#include <string>

namespace ledger::testing {

struct temp_dir {
    std::filesystem::path path;
    explicit temp_dir(const std::string& prefix = "ledger-test")
        : path(std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(std::random_device{}()))) {}
    ~temp_dir() { std::filesystem::remove_all(path); }
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;
};

}  // namespace ledger::testing
