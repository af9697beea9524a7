from tinct.cli.main import main

raise SystemExit(main())
