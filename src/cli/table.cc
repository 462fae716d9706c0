#include "cli/table.h"

#include <algorithm>

namespace swarm {
namespace {

// Counts UTF-8 code points, so the "…" and non-ASCII text align.
std::size_t DisplayWidth(const std::string& s) {
  return std::count_if(s.begin(), s.end(), [](char c) { return (c & 0xC0) != 0x80; });
}

std::string Fit(std::string cell, std::size_t max_width) {
  for (char& c : cell) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  if (DisplayWidth(cell) <= max_width) return cell;
  std::string out;
  std::size_t width = 0;
  for (char c : cell) {
    const bool starts_code_point = (c & 0xC0) != 0x80;
    if (starts_code_point && width == max_width - 1) break;
    if (starts_code_point) ++width;
    out += c;
  }
  return out + "…";
}

}  // namespace

TextTable::TextTable(std::vector<std::string> header, std::size_t max_cell_width)
    : max_cell_width_(std::max<std::size_t>(max_cell_width, 2)) {
  rows_.push_back(std::move(header));
}

void TextTable::AddRow(std::vector<std::string> cells) {
  cells.resize(rows_.front().size());
  for (auto& cell : cells) cell = Fit(std::move(cell), max_cell_width_);
  rows_.push_back(std::move(cells));
}

std::string TextTable::Render() const {
  std::vector<std::size_t> widths(rows_.front().size(), 0);
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], DisplayWidth(row[i]));
  }
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - DisplayWidth(row[i]) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace swarm
