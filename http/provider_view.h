// The payment provider adapter and its webhook side (integrations/provider.h)
// with their names brought into saalbuch::http for the handlers.
#pragma once

#include "integrations/provider.h"

namespace saalbuch::http {

using integrations::Checkout;
using integrations::CheckoutRequest;
using integrations::kMaxProviderResponseBytes;
using integrations::kMaxWebhookBytes;
using integrations::kSignatureHeader;
using integrations::MakeHttpProvider;
using integrations::ParseWebhook;
using integrations::PaymentProvider;
using integrations::ProviderConfig;
using integrations::RefundRequest;
using integrations::RefundTicket;
using integrations::SignatureCheck;
using integrations::SignatureCheckName;
using integrations::SignWebhook;
using integrations::VerifyWebhookSignature;
using integrations::WebhookEvent;

}  // namespace saalbuch::http
