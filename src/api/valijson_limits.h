// Explicit specializations of valijson's ValidationVisitor for the two adapters the judge
// uses. Include this header only from output_schema.cc, before anything instantiates a
// validator: it replaces, for untrusted outputs and schemas,
//  - std::regex (unbounded backtracking, one stack frame per character) in `pattern`,
//    `patternProperties` and the date/time `format`s by RE2 (see schema_regex.h);
//  - the O(n^2) `uniqueItems` scan by hashing (40,000 items took 35 s);
//  - unbounded recursion (a schema such as {"allOf":[{"$ref":"#"}]} recurses forever) by a
//    per-judgement budget of nesting and steps (JudgeBudget).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include <re2/re2.h>
#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/adapters/std_string_adapter.hpp>
#include <valijson/validation_visitor.hpp>

#include "api/schema_regex.h"

namespace swarm {

// How much work one Compile or Check may do; installed for the current thread by ScopedBudget.
struct JudgeBudget {
  std::size_t max_nesting = 256;    // nested subschema evaluations (value depth + combinators)
  std::size_t max_steps = 2000000;  // subschema evaluations in total
  std::size_t nesting = 0;
  std::size_t steps = 0;
  bool exceeded = false;
};

inline thread_local JudgeBudget* current_judge_budget = nullptr;

class ScopedBudget {
 public:
  explicit ScopedBudget(JudgeBudget& budget) : previous_(current_judge_budget) {
    current_judge_budget = &budget;
  }
  ~ScopedBudget() { current_judge_budget = previous_; }
  ScopedBudget(const ScopedBudget&) = delete;
  ScopedBudget& operator=(const ScopedBudget&) = delete;

 private:
  JudgeBudget* previous_;
};

// Enters one subschema evaluation; false once the budget is spent (the evaluation then fails).
class BudgetStep {
 public:
  BudgetStep() : budget_(current_judge_budget) {
    if (!budget_) return;
    ++budget_->nesting;
    ++budget_->steps;
    if (budget_->nesting > budget_->max_nesting || budget_->steps > budget_->max_steps)
      budget_->exceeded = true;
  }
  ~BudgetStep() {
    if (budget_) --budget_->nesting;
  }
  BudgetStep(const BudgetStep&) = delete;
  BudgetStep& operator=(const BudgetStep&) = delete;
  bool ok() const { return !budget_ || !budget_->exceeded; }

 private:
  JudgeBudget* budget_;
};

// A hash under which values valijson calls equal (1 and 1.0 alike) collide; objects hash
// independently of member order. Recursion follows the value, whose depth the parser bounded.
template <typename Adapter>
std::size_t JsonValueHash(const Adapter& v) {
  auto mix = [](std::size_t h, std::size_t x) {
    return h ^ (x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
  };
  if (v.isNull()) return 0x51;
  if (v.isBool()) return v.asBool() ? 0x52 : 0x53;
  if (v.isNumber()) return mix(0x54, std::hash<double>()(v.getNumber()));
  if (v.isString()) return mix(0x55, std::hash<std::string>()(v.asString()));
  std::size_t h = 0x56;
  if (v.isArray()) {
    for (const auto& item : v.asArray()) h = mix(h, JsonValueHash(item));
    return h;
  }
  if (v.isObject()) {
    std::size_t sum = 0;
    for (const auto& m : v.asObject())
      sum += mix(std::hash<std::string>()(m.first), JsonValueHash(m.second));
    return mix(0x57, sum);
  }
  return h;
}

}  // namespace swarm

namespace valijson {

using SwarmConstraintString =
    std::basic_string<char, std::char_traits<char>, internal::CustomAllocator<char>>;

#define SWARM_BOUNDED_VALIDATION(ADAPTER)                                                          \
  template <>                                                                                      \
  inline bool ValidationVisitor<ADAPTER>::validateSchema(const Subschema& subschema) {             \
    ::swarm::BudgetStep step;                                                                      \
    if (!step.ok()) return false;                                                                  \
    if (subschema.getAlwaysInvalid()) return false;                                                \
    Subschema::ApplyFunction fn(                                                                   \
        std::bind(validationCallback, std::placeholders::_1, std::ref(*this)));                    \
    return m_results == nullptr ? subschema.applyStrict(fn) : subschema.apply(fn);                 \
  }                                                                                                \
                                                                                                   \
  template <>                                                                                      \
  inline bool ValidationVisitor<ADAPTER>::visit(const PatternConstraint& constraint) {             \
    if ((m_strictTypes && !m_target.isString()) || !m_target.maybeString()) return true;           \
    const std::string pattern(constraint.getPattern<std::string::allocator_type>());               \
    if (::swarm::SchemaRegexSearch(pattern, m_target.asString())) return true;                     \
    if (m_results)                                                                                 \
      m_results->pushError(m_context, "Failed to match regex specified by 'pattern' constraint."); \
    return false;                                                                                  \
  }                                                                                                \
                                                                                                   \
  template <>                                                                                      \
  inline bool ValidationVisitor<ADAPTER>::visit(const FormatConstraint& constraint) {              \
    static const re2::RE2 kDate("([0-9]+)-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])");              \
    static const re2::RE2 kTime(                                                                   \
        "([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(\\.[0-9]+)?"                              \
        "(([Zz])|([\\+|\\-]([01][0-9]|2[0-3]):[0-5][0-9]))");                                      \
    static const re2::RE2 kDateTime(                                                               \
        "([0-9]+)-(0[1-9]|1[012])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):([0-5][0-9]):"    \
        "([0-5][0-9]|60)(\\.[0-9]+)?(([Zz])|([\\+|\\-]([01][0-9]|2[0-3]):[0-5][0-9]))");           \
    const std::string format = constraint.getFormat();                                             \
    const re2::RE2* re = format == "date"        ? &kDate                                          \
                         : format == "time"      ? &kTime                                          \
                         : format == "date-time" ? &kDateTime                                      \
                                                 : nullptr;                                        \
    if (!re) return true; /* formats valijson does not check stay unchecked */                     \
    const std::string s = m_target.asString();                                                     \
    int month = 1, day = 1;                                                                        \
    bool ok = re == &kTime ? re2::RE2::FullMatch(s, *re)                                           \
                           : re2::RE2::FullMatch(s, *re, nullptr, &month, &day) &&                 \
                                 validate_date_range(month, day);                                  \
    if (!ok && m_results) m_results->pushError(m_context, "String should be a valid " + format);   \
    return ok;                                                                                     \
  }

SWARM_BOUNDED_VALIDATION(adapters::NlohmannJsonAdapter)
SWARM_BOUNDED_VALIDATION(adapters::StdStringAdapter)
#undef SWARM_BOUNDED_VALIDATION

// patternProperties: RE2 instead of a std::regex built per call.
template <>
template <>
inline bool ValidationVisitor<adapters::NlohmannJsonAdapter>::ValidatePatternPropertySubschemas::
operator()<SwarmConstraintString>(const SwarmConstraintString& patternProperty,
                                  const Subschema* subschema) const {
  const std::string pattern(patternProperty.c_str());
  bool matchFound = false;
  for (const adapters::NlohmannJsonAdapter::ObjectMember m : m_object) {
    if (!::swarm::SchemaRegexSearch(pattern, m.first)) continue;
    matchFound = true;
    if (m_propertiesMatched) m_propertiesMatched->insert(m.first);
    std::vector<std::string> newContext = m_context;
    newContext.push_back("[" + m.first + "]");
    ValidationVisitor validator(m.second, newContext, m_strictTypes, m_results, m_regexesCache);
    if (validator.validateSchema(*subschema)) continue;
    if (m_results)
      m_results->pushError(
          m_context,
          "Failed to validate against schema associated with pattern '" + pattern + "'.");
    if (m_validated) *m_validated = false;
    if (!m_continueOnFailure) return false;
  }
  if (!matchFound && !m_continueIfUnmatched) return false;
  return m_continueOnSuccess;
}

// uniqueItems: bucket by hash, compare only within a bucket, one error per repeated item.
template <>
inline bool ValidationVisitor<adapters::NlohmannJsonAdapter>::visit(const UniqueItemsConstraint&) {
  if ((m_strictTypes && !m_target.isArray()) || !m_target.maybeArray()) return true;
  std::vector<adapters::NlohmannJsonAdapter> items;
  for (const auto& item : m_target.asArray()) items.push_back(item);
  std::unordered_map<std::size_t, std::vector<std::size_t>> firsts;  // hash -> distinct items
  bool validated = true;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto& bucket = firsts[::swarm::JsonValueHash(items[i])];
    bool repeated = false;
    for (std::size_t j : bucket) {
      if (!items[j].equalTo(items[i], true)) continue;
      repeated = true;
      if (!m_results) return false;
      m_results->pushError(m_context, "Elements at indexes #" + std::to_string(j) + " and #" +
                                          std::to_string(i) + " violate uniqueness constraint.");
      validated = false;
      break;
    }
    if (!repeated) bucket.push_back(i);
  }
  return validated;
}

}  // namespace valijson
