// Text for HTML: the five characters that could end an element or an
// attribute value, as entities. Used by the e-mails (integrations/) and the
// hosted pages (http/).
#pragma once

#include <string>
#include <string_view>

namespace saalbuch::formats {

std::string HtmlEscape(std::string_view text);

}  // namespace saalbuch::formats
