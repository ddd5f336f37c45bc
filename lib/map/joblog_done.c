/* joblog_done.c — the set of Seqs a joblog says are done (joblog.h). */
#include "joblog.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* The set is a bitmap cut in pages of 64 Ki Seqs, allocated as Seqs land
 * in them and kept sorted by index: a million jobs take 128 KiB, and a
 * stray large Seq costs one page. */
#define PAGE_SHIFT 16
#define PAGE_SEQS (1UL << PAGE_SHIFT)

struct page {
	unsigned long index; /* Seq >> PAGE_SHIFT */
	unsigned char *bits;
};

struct joblog_done {
	struct page *pages;
	size_t npages, cap;
	unsigned long count;
};

struct joblog_done *joblog_done_new(void)
{
	return xcalloc(1, sizeof(struct joblog_done));
}

/* The first page whose index is index or more (npages if none). */
static size_t page_at(const struct joblog_done *d, unsigned long index)
{
	size_t lo = 0, hi = d->npages;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->pages[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static unsigned char *page_bits(const struct joblog_done *d, unsigned long index)
{
	size_t i;
	if (!d)
		return NULL;
	/* Seqs come mostly in order: the last page first */
	if (d->npages && d->pages[d->npages - 1].index == index)
		return d->pages[d->npages - 1].bits;
	i = page_at(d, index);
	return i < d->npages && d->pages[i].index == index ? d->pages[i].bits : NULL;
}

static unsigned char *page_add(struct joblog_done *d, unsigned long index)
{
	size_t i = page_at(d, index);
	if (d->npages == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 16;
		d->pages = xrealloc(d->pages, d->cap * sizeof *d->pages);
	}
	memmove(d->pages + i + 1, d->pages + i, (d->npages - i) * sizeof *d->pages);
	d->pages[i].index = index;
	d->pages[i].bits = xcalloc(PAGE_SEQS / 8, 1);
	d->npages++;
	return d->pages[i].bits;
}

void joblog_done_add(struct joblog_done *d, unsigned long seq)
{
	unsigned long bit = seq & (PAGE_SEQS - 1);
	unsigned char mask = (unsigned char)(1u << (bit & 7));
	unsigned char *bits = page_bits(d, seq >> PAGE_SHIFT);

	if (!bits)
		bits = page_add(d, seq >> PAGE_SHIFT);
	if (bits[bit >> 3] & mask)
		return;
	bits[bit >> 3] |= mask;
	d->count++;
}

int joblog_done_has(const struct joblog_done *d, unsigned long seq)
{
	unsigned long bit = seq & (PAGE_SEQS - 1);
	const unsigned char *bits = page_bits(d, seq >> PAGE_SHIFT);
	return bits ? (bits[bit >> 3] >> (bit & 7)) & 1 : 0;
}

unsigned long joblog_done_count(const struct joblog_done *d)
{
	return d ? d->count : 0;
}

/* The first Seq in the page from its bit on, or 0. */
static unsigned long next_in_page(const struct page *pg, unsigned long bit)
{
	while (bit < PAGE_SEQS) {
		uint64_t word;
		if ((bit & 63) == 0) {
			memcpy(&word, pg->bits + bit / 8, sizeof word);
			if (word == 0) {
				bit += 64; /* an empty word whole */
				continue;
			}
		}
		if ((pg->bits[bit >> 3] >> (bit & 7)) & 1)
			return pg->index << PAGE_SHIFT | bit;
		bit++;
	}
	return 0;
}

unsigned long joblog_done_next(const struct joblog_done *d, unsigned long after)
{
	unsigned long from = after + 1, seq;
	if (!d || after >= JOBLOG_MAX_SEQ)
		return 0;
	for (size_t i = page_at(d, from >> PAGE_SHIFT); i < d->npages; i++) {
		unsigned long bit = d->pages[i].index == from >> PAGE_SHIFT ? from & (PAGE_SEQS - 1) : 0;
		if ((seq = next_in_page(&d->pages[i], bit)) != 0)
			return seq;
	}
	return 0;
}

void joblog_done_free(struct joblog_done *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->npages; i++)
		free(d->pages[i].bits);
	free(d->pages);
	free(d);
}
