package store

import (
	"context"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	llmTokensDesc = prometheus.NewDesc("ferry_llm_tokens_total",
		"Tokens ferry's language model spent, by feature, model and kind (prompt, completion); answers from the cache spend none.",
		[]string{"feature", "model", "kind"}, nil)
	llmCallsDesc = prometheus.NewDesc("ferry_llm_calls_total",
		"Questions ferry asked its language model, by feature, model and whether the cache answered.",
		[]string{"feature", "model", "cached"}, nil)
)

// llmCollector reports what the model cost when scraped, from the rows
// every replica writes: aggregate them with max, like the deploy census.
type llmCollector struct{ db *DB }

// NewLLMCollector returns the collector of ferry_llm_tokens_total and
// ferry_llm_calls_total.
func NewLLMCollector(db *DB) prometheus.Collector { return llmCollector{db: db} }

func (c llmCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- llmTokensDesc
	ch <- llmCallsDesc
}

func (c llmCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	spent, err := c.db.LLMUsage(ctx, 0, time.Time{})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(llmTokensDesc, err)
		ch <- prometheus.NewInvalidMetric(llmCallsDesc, err)
		return
	}
	for _, s := range spent {
		ch <- prometheus.MustNewConstMetric(llmTokensDesc, prometheus.CounterValue, float64(s.PromptTokens), s.Feature, s.Model, "prompt")
		ch <- prometheus.MustNewConstMetric(llmTokensDesc, prometheus.CounterValue, float64(s.CompletionTokens), s.Feature, s.Model, "completion")
		ch <- prometheus.MustNewConstMetric(llmCallsDesc, prometheus.CounterValue, float64(s.Calls-s.Cached), s.Feature, s.Model, strconv.FormatBool(false))
		ch <- prometheus.MustNewConstMetric(llmCallsDesc, prometheus.CounterValue, float64(s.Cached), s.Feature, s.Model, strconv.FormatBool(true))
	}
}
