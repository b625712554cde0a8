// The reconciliation files the books import — camt.053 bank statements and
// the payment provider's settlement CSV — as parsed by formats/, with their
// names brought into saalbuch::http for the handlers.
#pragma once

#include "formats/camt.h"
#include "formats/settlement.h"

namespace saalbuch::http {

using formats::BankLine;
using formats::BankStatement;
using formats::kMaxSettlementRows;
using formats::ParseCamt053;
using formats::ParseSettlementCsv;
using formats::Payout;
using formats::SettlementItem;

}  // namespace saalbuch::http
