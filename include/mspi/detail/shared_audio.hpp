// ptapi - portable TAPI
// mspi/detail/shared_audio.hpp: decoded play lists shared by every file playback terminal that plays the
// same files, so an announcement played into many calls is decoded and held in memory once.
#pragma once

#include <mspi/audio_file.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

namespace mspi::detail {

/// 48 kHz mono samples of a decoded play list, shared read-only.
using shared_samples = std::shared_ptr<const std::vector<std::int16_t>>;

/// The process's cache of decoded play lists. A list is identified by its paths and, for each file, its
/// size and modification time: a file changed on disk is decoded again. Entries are weak: the samples
/// live as long as some terminal plays them, and the cache never holds audio on its own.
///
/// @par Thread Safety
/// Safe from any thread. The lock is held only to look up and to insert; decoding runs outside it (two
/// threads loading the same list at once may both decode it, and the later one is kept).
class shared_audio_cache {
 public:
  /// The process-wide cache.
  static shared_audio_cache& instance() {
    static shared_audio_cache cache;
    return cache;
  }

  /// The concatenation of `files` (each decoded and converted by `read_audio_file`), from the cache when
  /// another terminal holds it. Null with `ec` = `tapi_errc::file_read_error` when a file cannot be read
  /// (see `read_audio_file`). Throws only std::bad_alloc.
  shared_samples load(const std::vector<std::string>& files, std::error_code& ec) {
    ec.clear();
    const auto key = key_of(files);
    {
      std::lock_guard lock(mutex_);
      if (auto it = entries_.find(key); it != entries_.end())
        if (auto s = it->second.lock()) return s;
    }
    auto all = std::make_shared<std::vector<std::int16_t>>();
    for (const auto& f : files) {
      auto samples = read_audio_file(f, ec);
      if (ec) return nullptr;
      all->insert(all->end(), samples.begin(), samples.end());
    }
    std::lock_guard lock(mutex_);
    std::erase_if(entries_, [](const auto& e) { return e.second.expired(); });
    entries_[key] = all;
    return all;
  }

 private:
  // Paths, sizes and modification times, NUL-separated; a file that cannot be examined is keyed by its
  // path alone (reading it will report the error).
  static std::string key_of(const std::vector<std::string>& files) {
    std::string key;
    for (const auto& f : files) {
      std::error_code fec;
      const auto size = std::filesystem::file_size(f, fec);
      const auto time = std::filesystem::last_write_time(f, fec);
      key += f;
      key += '\0';
      if (!fec) key += std::to_string(size) + ':' + std::to_string(time.time_since_epoch().count());
      key += '\0';
    }
    return key;
  }

  std::mutex mutex_;
  std::map<std::string, std::weak_ptr<const std::vector<std::int16_t>>> entries_;
};

}  // namespace mspi::detail
