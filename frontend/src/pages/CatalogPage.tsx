import { useSearchParams } from 'react-router-dom';
import { useGetCategoriesQuery, useGetProductsQuery } from '../api/shopApi';
import type { ProductSort } from '../api/types';
import { ErrorNote } from '../components/ErrorNote';
import { Pagination } from '../components/Pagination';
import { ProductCard, ProductCardSkeleton } from '../components/ProductCard';

export const PAGE_SIZE = 12;

// '' is the API's default: best match with a search, newest without.
export function sortOptions(hasQuery: boolean): { value: ProductSort | ''; label: string }[] {
  return [
    { value: '', label: hasQuery ? 'Best match' : 'Newest first' },
    ...(hasQuery ? [{ value: 'newest' as const, label: 'Newest first' }] : []),
    { value: 'price_asc', label: 'Price: low to high' },
    { value: 'price_desc', label: 'Price: high to low' },
    { value: 'name', label: 'Name' },
  ];
}

function pageOf(s: string | null): number {
  const n = Number(s);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

export function CatalogPage() {
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const category = params.get('category') ?? '';
  const sortParam = (params.get('sort') ?? '') as ProductSort | '';
  const sorts = sortOptions(!!q);
  const sort = sorts.some((s) => s.value === sortParam) ? sortParam : '';
  const page = pageOf(params.get('page'));

  const categories = useGetCategoriesQuery();
  const products = useGetProductsQuery({
    q: q || undefined,
    category: category || undefined,
    sort: sort || undefined,
    page,
    page_size: PAGE_SIZE,
  });

  const update = (changes: Record<string, string | null>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(changes)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('page' in changes)) next.delete('page');
    setParams(next);
  };

  const categoryName = categories.data?.items.find((c) => c.slug === category)?.name;
  const data = products.data;
  const heading = q ? `Results for “${q}”` : (categoryName ?? 'All products');

  return (
    <div className="page">
      <div className="catalog-head">
        <div>
          <h1>{heading}</h1>
          {data && (
            <p className="muted" aria-live="polite" data-testid="result-count">
              {data.total === 1 ? '1 product' : `${data.total} products`}
            </p>
          )}
        </div>
        <div className="filters">
          <label>
            <span>Sort by</span>
            <select value={sort} onChange={(e) => update({ sort: e.target.value || null })}>
              {sorts.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          </label>
        </div>
      </div>

      {categories.data && (
        <div className="chips" role="group" aria-label="Categories">
          <button
            type="button"
            className={`chip ${category === '' ? 'chip-on' : ''}`}
            aria-pressed={category === ''}
            onClick={() => update({ category: null })}
          >
            All
          </button>
          {categories.data.items.map((c) => (
            <button
              type="button"
              key={c.slug}
              className={`chip ${category === c.slug ? 'chip-on' : ''}`}
              aria-pressed={category === c.slug}
              onClick={() => update({ category: c.slug })}
            >
              {c.name}
            </button>
          ))}
        </div>
      )}

      <ErrorNote error={products.error} onRetry={products.refetch} />

      {products.isLoading ? (
        <ul className="grid" aria-busy="true" aria-label="Loading products">
          {Array.from({ length: 8 }, (_, i) => (
            <ProductCardSkeleton key={i} />
          ))}
        </ul>
      ) : data && data.items.length > 0 ? (
        <>
          {/* while new results load, the previous ones stay, dimmed */}
          <ul
            className={`grid ${products.isFetching ? 'refreshing' : ''}`}
            aria-label="Products"
            aria-busy={products.isFetching}
          >
            {data.items.map((p) => (
              <ProductCard key={p.id} product={p} />
            ))}
          </ul>
          <Pagination
            page={data.page}
            pageSize={data.page_size}
            total={data.total}
            onPage={(p) => {
              update({ page: p > 1 ? String(p) : null });
              window.scrollTo?.({ top: 0 });
            }}
          />
        </>
      ) : data ? (
        <div className="empty">
          <h2>No products found</h2>
          <p className="muted">
            {q ? `Nothing matches “${q}”${categoryName ? ` in ${categoryName}` : ''}.` : 'This category is empty.'}
          </p>
          {(q || category) && (
            <button type="button" className="btn" onClick={() => setParams(new URLSearchParams())}>
              Show all products
            </button>
          )}
        </div>
      ) : null}
    </div>
  );
}
