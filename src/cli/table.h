// Plain-text tables for the client commands: a header row, left-aligned columns, two spaces
// between them, long cells cut with "…".
#pragma once

#include <string>
#include <vector>

namespace swarm {

class TextTable {
 public:
  explicit TextTable(std::vector<std::string> header, std::size_t max_cell_width = 60);
  void AddRow(std::vector<std::string> cells);
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
  std::size_t max_cell_width_;
};

}  // namespace swarm
