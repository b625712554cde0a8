// Words of a person's name for blind indexes (ledger::Vault::IndexName):
// staff find a person by a word of the name, or by its beginning, while
// only keyed hashes of these words are stored.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace saalbuch {

// The words of `text`, lower case: runs of letters and digits (ASCII and
// any non-ASCII UTF-8 character; the capitals of Latin-1, À–Þ, become their
// small letters, so "MÜLLER" and "Müller" are one word), split at
// anything else ("Müller-Lüdenscheidt, Dr." → müller, lüdenscheidt, dr).
// At most 8 words of at most 40 characters each; duplicates dropped.
std::vector<std::string> NameWords(std::string_view text);

// What a name is indexed under: each word and each of its beginnings of 3
// characters or more ("erika" → eri, erik, erika; "li" → li). A search word
// then finds every name with a word that starts with it, if it has three
// characters or more, or that is it.
std::vector<std::string> NameIndexWords(std::string_view text);

}  // namespace saalbuch
