// Signed checkpoint notes and verifier keys as an auditor pastes them: the
// grammar's parser refuses or accepts, never crashes. A checkpoint body it
// accepts names its origin on the first line, and what it parsed writes out
// as a body that parses to the same (the input itself may differ: extension
// lines after the third are allowed, as in C2SP tlog-checkpoint).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/note.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto body = saalbuch::NoteBody(text)) {
    if (auto checkpoint = saalbuch::ParseCheckpointBody(*body)) {
      if (body->rfind(checkpoint->origin + "\n", 0) != 0) __builtin_trap();
      auto again = saalbuch::ParseCheckpointBody(saalbuch::CheckpointBody(*checkpoint));
      if (!again || again->origin != checkpoint->origin || again->size != checkpoint->size ||
          again->hash != checkpoint->hash) {
        __builtin_trap();
      }
    }
  }
  if (auto verifier = saalbuch::ParseVerifierKey(text)) {
    (void)saalbuch::OpenNote(text, *verifier);
  }
  return 0;
}
