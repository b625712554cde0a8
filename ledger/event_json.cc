#include "ledger/event_json.h"

#include <flatbuffers/idl.h>

#include <mutex>

#include "ledger/log.h"
#include "schemas/event_fbs_text.h"

namespace saalbuch::ledger {
namespace {

const flatbuffers::Parser& SchemaParser() {
  static const flatbuffers::Parser* parser = [] {
    flatbuffers::IDLOptions opts;
    opts.strict_json = true;
    opts.output_default_scalars_in_json = true;
    opts.natural_utf8 = true;
    auto* p = new flatbuffers::Parser(opts);  // lives for the process
    if (!p->Parse(schema::kEventSchemaText)) {
      throw std::logic_error("embedded event schema does not parse: " + p->error_);
    }
    return p;
  }();
  return *parser;
}

}  // namespace

Result<nlohmann::json> EnvelopeToJson(std::string_view bytes) {
  if (DecodeEnvelope(bytes) == nullptr) {
    return Status(StatusCode::kCorruption, "record bytes are not a well-formed Envelope");
  }
  std::string text;
  if (!flatbuffers::GenerateText(SchemaParser(), bytes.data(), &text)) {
    return Status(StatusCode::kCorruption, "record cannot be rendered as text");
  }
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status(StatusCode::kCorruption, "record renders as invalid JSON");
  return j;
}

void HexHashes(nlohmann::json* j) {
  if (!j->is_object()) return;
  for (auto& [k, v] : j->items()) {
    if (v.is_array() && k.size() > 5 && k.ends_with("_hash")) {
      std::string bytes;
      for (const auto& b : v) bytes.push_back(static_cast<char>(b.get<int>()));
      v = ToHex(bytes);
    } else {
      HexHashes(&v);
    }
  }
}

}  // namespace saalbuch::ledger
