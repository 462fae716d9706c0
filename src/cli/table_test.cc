#include "cli/table.h"

#include <gtest/gtest.h>

namespace swarm {
namespace {

TEST(TextTable, AlignsColumns) {
  TextTable t({"ID", "STATUS"});
  t.AddRow({"a", "completed"});
  t.AddRow({"longer-id", "failed"});
  EXPECT_EQ(t.Render(),
            "ID         STATUS\n"
            "a          completed\n"
            "longer-id  failed\n");
}

TEST(TextTable, CutsLongCellsAndFlattensNewlines) {
  TextTable t({"TASK"}, 8);
  t.AddRow({"Reply with\nexactly: pong"});
  EXPECT_EQ(t.Render(), "TASK\nReply w…\n");
}

TEST(TextTable, MissingCellsAreEmpty) {
  TextTable t({"A", "B"});
  t.AddRow({"x"});
  EXPECT_EQ(t.Render(), "A  B\nx\n");
}

}  // namespace
}  // namespace swarm
