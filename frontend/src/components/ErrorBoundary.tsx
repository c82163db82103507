import { Component, type ErrorInfo, type ReactNode } from 'react';

interface State {
  error: Error | null;
}

/** A render error shows a way back, never a blank page. */
export class ErrorBoundary extends Component<{ children: ReactNode }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo) {
    console.error('storefront error', error, info.componentStack);
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="page narrow" role="alert">
        <h1>Something went wrong on this page</h1>
        <p className="muted">{this.state.error.message}</p>
        <p>
          <button type="button" className="btn" onClick={() => this.setState({ error: null })}>
            Try again
          </button>{' '}
          <a className="btn btn-ghost" href="/">
            Back to the shop
          </a>
        </p>
      </div>
    );
  }
}
